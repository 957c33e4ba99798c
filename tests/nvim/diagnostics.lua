-- Open TSL_FILE in Neovim, attach `timestamp-lint server` (TSL_CMD, a JSON list) through
-- the built-in LSP client, wait for its diagnostics and write them to TSL_OUT, one per line:
-- "line:column:code:message" (1-based), then stop the server and quit.
local out = os.getenv("TSL_OUT")
local cmd = vim.fn.json_decode(os.getenv("TSL_CMD"))
local root = os.getenv("TSL_ROOT")

vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("TSL_FILE")))
local buf = vim.api.nvim_get_current_buf()
local config = { name = "timestamp-lint", cmd = cmd, root_dir = root }
local client_id
if vim.lsp.start then -- Neovim 0.8 and later
  client_id = vim.lsp.start(config)
else -- Neovim 0.7 (Debian 12)
  client_id = vim.lsp.start_client(config)
  vim.lsp.buf_attach_client(buf, client_id)
end

local found = vim.wait(60000, function()
  return #vim.diagnostic.get(buf) > 0
end, 50)

local lines = {}
if not found then
  table.insert(lines, "timeout: no diagnostics")
end
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local lsp = d.user_data and d.user_data.lsp or {}
  local code = d.code or lsp.code or ""
  table.insert(lines, string.format("%d:%d:%s:%s", d.lnum + 1, d.col + 1, code, d.message))
end
vim.fn.writefile(lines, out)

vim.lsp.stop_client(client_id)
vim.wait(10000, function()
  return vim.lsp.get_client_by_id(client_id) == nil
end, 50)
vim.cmd("qa!")
