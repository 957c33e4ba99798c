"""`--output-format prometheus`: the text exposition format, for node_exporter's textfile
collector (write to `*.prom` atomically) or a Pushgateway (`curl --data-binary @-`)."""

from __future__ import annotations

from timestamp_lint.audit.model import SEVERITY, AuditReport, format_duration

PREFIX = "timestamp_lint_audit_"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


class _Metrics:
    def __init__(self) -> None:
        self.families: dict[str, tuple[str, list[str]]] = {}

    def add(self, name: str, help_text: str, value: float, **labels: str) -> None:
        family = self.families.setdefault(name, (help_text, []))
        family[1].append(f"{PREFIX}{name}{_labels(labels)} {_number(value)}")

    def text(self) -> str:
        out = []
        for name, (help_text, samples) in self.families.items():
            out.append(f"# HELP {PREFIX}{name} {help_text}")
            out.append(f"# TYPE {PREFIX}{name} gauge")
            out.extend(samples)
        return "\n".join(out) + "\n"


def render(report: AuditReport, color: bool = False) -> str:
    m = _Metrics()
    t = report.thresholds
    warn_w, crit_w = format_duration(t.warn_window), format_duration(t.critical_window)
    m.add("status", "Worst status: 0 ok, 1 warning, 2 critical.", SEVERITY[report.status])
    m.add("last_run_timestamp_seconds", "When the audit ran (Unix time).", float(report.started))
    m.add("duration_seconds", "How long the checks took.", float(report.duration))
    for table in report.tables:
        name = table.table
        m.add(
            "table_status",
            "Per table: 0 ok, 1 warning, 2 critical.",
            SEVERITY[table.status],
            table=name,
        )
        m.add("rows", "Rows in the table.", table.rows, table=name)
        m.add(
            "reversed_rows",
            "Rows with updated_at before created_at.",
            table.reversed.count,
            table=name,
        )
        for window, count in (
            ("all", table.reversed),
            (warn_w, table.warn_window),
            (crit_w, table.critical_window),
        ):
            m.add(
                "reversed_ratio",
                "Share of rows (created in the window) with updated_at before created_at.",
                count.rate,
                table=name,
                window=window,
            )
            m.add(
                "window_rows", "Rows created in the window.", count.total, table=name, window=window
            )
        m.add(
            "future_rows",
            "Rows created later than the database clock plus the skew.",
            table.future.count,
            table=name,
        )
        for column, nulls in table.nulls.items():
            m.add("null_rows", "Rows with a NULL timestamp.", nulls, table=name, column=column)
        for copies in table.copies:
            labels = {
                "table": name,
                "parent": copies.parent,
                "column": copies.column,
                "via": ",".join(copies.columns),
            }
            m.add(
                "linked_rows",
                "Child rows that have a parent through the foreign key.",
                copies.linked,
                **labels,
            )
            m.add(
                "copied_rows",
                "Child rows whose timestamp equals the parent's (another transaction).",
                copies.copied.count,
                **labels,
            )
            m.add(
                "same_transaction_rows",
                "Child rows equal to the parent, written by the parent's own transaction.",
                copies.same_transaction,
                **labels,
            )
            for window, count in (
                ("all", copies.copied),
                (warn_w, copies.warn_window),
                (crit_w, copies.critical_window),
            ):
                m.add(
                    "copied_ratio",
                    "Share of linked child rows (created in the window) with a copied timestamp.",
                    count.rate,
                    **labels,
                    window=window,
                )
        for note in table.notes:
            m.add(
                "schema_problem",
                "Schema observations (drift=true: the project's model says otherwise).",
                1,
                table=name,
                column=note.column,
                problem=note.problem,
                drift="true" if note.drift else "false",
            )
    return m.text()
