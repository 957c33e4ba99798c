"""Word lists the generator draws names, columns and prose from."""

from __future__ import annotations

# Business areas; each becomes a package (`atlas/<domain>/`). Larger scales combine them with
# QUALIFIERS (`partner_billing`). None contains an allowlisted word (migrations, alembic,
# backfill, serializers) or an excluded folder name (build, dist).
DOMAINS: tuple[str, ...] = (
    "billing", "payments", "invoicing", "subscriptions", "catalog", "inventory", "orders",
    "fulfillment", "shipping", "returns", "pricing", "promotions", "loyalty", "accounts",
    "identity", "teams", "organizations", "projects", "tasks", "workflows", "approvals",
    "notifications", "messaging", "mailing", "webhooks", "integrations", "analytics",
    "reporting", "audit", "compliance", "documents", "storage", "media", "search",
    "recommendations", "reviews", "support", "tickets", "scheduling", "calendar", "bookings",
    "payroll", "timesheets", "expenses", "procurement", "vendors", "contracts", "assets",
    "maintenance", "fleet", "routing", "warehouse", "quality", "onboarding", "crm", "leads",
    "campaigns", "surveys", "forms", "experiments", "quotas", "metering", "ledger", "tax",
    "currency", "fraud", "risk", "kyc", "disputes", "chargebacks", "refunds", "payouts",
    "wallets", "gift_cards", "referrals", "marketplace", "listings", "auctions", "discovery",
    "flows", "pipelines", "jobs", "exports", "imports", "sync", "connectors", "licenses",
    "entitlements", "sessions", "devices", "locations", "regions", "rates", "deliveries",
    "claims", "policies", "quotes", "memberships", "events", "venues", "courses", "lessons",
)  # fmt: skip

QUALIFIERS: tuple[str, ...] = (
    "partner", "legacy", "internal", "b2b", "mobile", "enterprise", "retail", "wholesale",
    "regional", "global", "marketplace", "hosted", "edge", "batch", "realtime", "ops",
)  # fmt: skip

NOUNS: tuple[str, ...] = (
    "Account", "Adjustment", "Allocation", "Approval", "Assignment", "Attachment", "Attempt",
    "Batch", "Booking", "Bundle", "Campaign", "Channel", "Charge", "Check", "Comment",
    "Contact", "Contract", "Credit", "Cycle", "Delivery", "Document", "Draft", "Entry",
    "Estimate", "Event", "Export", "Feed", "Grant", "Group", "Incident", "Invite", "Item",
    "Job", "Label", "Limit", "Line", "Link", "Listing", "Mapping", "Member", "Message",
    "Metric", "Milestone", "Note", "Offer", "Order", "Package", "Period", "Plan", "Policy",
    "Position", "Profile", "Quota", "Rate", "Receipt", "Record", "Release", "Report",
    "Request", "Reservation", "Review", "Rule", "Run", "Schedule", "Segment", "Setting",
    "Shipment", "Slot", "Snapshot", "Source", "Stage", "Statement", "Step", "Subscription",
    "Target", "Task", "Template", "Thread", "Ticket", "Token", "Transfer", "Usage", "Version",
    "Window", "Workflow", "Flow", "Invoice", "Payment", "Payout", "Refund", "Claim", "Quote",
)  # fmt: skip

# (column name, kind). Timestamps other than the linted fields are plain data columns.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "str"), ("title", "str"), ("code", "str"), ("reference", "str"),
    ("external_id", "str"), ("description", "text"), ("notes", "text"), ("amount", "decimal"),
    ("total", "decimal"), ("balance", "decimal"), ("quantity", "int"), ("priority", "int"),
    ("position", "int"), ("attempts", "int"), ("is_active", "bool"), ("is_archived", "bool"),
    ("is_default", "bool"), ("currency", "currency"), ("email", "str"), ("locale", "str"),
    ("payload", "json"), ("settings", "json"), ("labels", "json"), ("expires_at", "dt"),
    ("started_at", "dt"), ("completed_at", "dt"), ("archived_at", "dt"),
    ("last_synced_at", "dt"), ("due_on", "date"), ("effective_on", "date"),
    ("owner_id", "int"), ("tenant_id", "int"), ("region", "str"), ("source", "str"),
    ("kind", "str"), ("score", "float"), ("weight", "float"), ("revision", "int"),
    ("slug", "str"), ("channel", "str"), ("discount", "decimal"), ("retry_count", "int"),
)  # fmt: skip

STATUSES: tuple[tuple[str, ...], ...] = (
    ("draft", "open", "closed", "void"),
    ("pending", "active", "suspended", "cancelled"),
    ("queued", "running", "succeeded", "failed"),
    ("new", "in_review", "approved", "rejected"),
    ("scheduled", "in_progress", "completed", "skipped"),
    ("requested", "confirmed", "shipped", "delivered", "returned"),
)

FIRST_NAMES: tuple[str, ...] = (
    "amara", "bjorn", "chen", "dario", "elena", "farid", "greta", "hiro", "ines", "jonas",
    "kofi", "lena", "marco", "nadia", "omar", "priya", "quinn", "rosa", "sven", "tomas",
)  # fmt: skip

TICKETS: tuple[str, ...] = ("PLAT", "CORE", "BILL", "OPS", "DATA", "API", "INFRA", "SEC")

VERBS: tuple[str, ...] = (
    "load", "find", "build", "compute", "resolve", "normalize", "validate", "collect",
    "prepare", "apply", "refresh", "merge", "split", "group", "rank", "score", "render",
    "format", "parse", "summarize", "reconcile", "enqueue", "schedule", "notify", "match",
    "count", "index", "partition", "estimate", "select", "check", "sync", "expand",
)  # fmt: skip

TOPICS: tuple[str, ...] = (
    "totals", "limits", "labels", "windows", "batches", "tokens", "aliases", "filters",
    "thresholds", "buckets", "weights", "rules", "defaults", "overrides", "ranges", "quotas",
    "retries", "channels", "regions", "segments", "rates", "keys", "candidates", "changes",
)  # fmt: skip

UTIL_MODULES: tuple[str, ...] = (
    "formatting", "money", "pagination", "text", "retry", "grouping", "ranking", "matching",
    "csv_io", "cache_keys", "limits", "sorting", "windows", "checksums", "units", "diffing",
)  # fmt: skip

LIB_MODULES: tuple[str, ...] = (
    "text", "money", "retry", "http_client", "csv_export", "feature_flags", "hashing",
    "pagination", "iterables", "rate_limit", "locks", "tracing", "metrics", "settings_loader",
    "email_templates", "phone_numbers", "addresses", "slugs", "dates", "json_tools", "s3",
    "queues", "timing", "validation", "i18n", "sentry", "profiling", "batching",
)  # fmt: skip

CLIENTS: tuple[str, ...] = (
    "stripe", "salesforce", "hubspot", "zendesk", "slack", "twilio", "sendgrid", "shopify",
    "netsuite", "quickbooks", "segment", "intercom", "docusign", "github", "jira", "okta",
)  # fmt: skip

ADJECTIVES: tuple[str, ...] = (
    "pending", "stale", "active", "archived", "expired", "duplicate", "orphaned", "recent",
    "overdue", "primary", "default", "inactive", "eligible", "blocked", "flagged", "partial",
)  # fmt: skip

REASONS: tuple[str, ...] = (
    "the upstream API rejects empty pages",
    "finance reconciles these numbers every night",
    "the mobile client sends locale-specific decimals",
    "older tenants still rely on this ordering",
    "support asked for a stable order in exports",
    "the partner feed retries aggressively",
    "rows imported before 2021 have no owner",
    "the queue can deliver a message twice",
    "a retry must not double-charge the customer",
    "the reporting warehouse truncates long strings",
    "the admin UI paginates on this key",
    "webhooks can arrive out of order",
    "customers may edit these in the dashboard",
    "the scheduler runs in several regions",
    "the cache is shared between workers",
    "legal requires an audit trail for every change",
)
