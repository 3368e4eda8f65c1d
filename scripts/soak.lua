-- wrk script for scripts/soak.sh: cycles through simple requests and
-- preflights from three origins, and checks every answer against the two
-- policies the soak alternates between. Each policy allows one of
-- https://a.example and https://b.example with credentials; neither allows
-- https://c.example. The server echoes the request's Origin and method in
-- X-Request-Origin and X-Request-Method, so that an answer can be checked
-- without knowing which request it belongs to.

local origins = {"https://a.example", "https://b.example", "https://c.example"}
local requests = {}
local next_request = 0

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  -- "control" as the first argument: the server has no cors handler, and
  -- only statuses and connection errors are counted.
  control = args[1] == "control"
  for _, origin in ipairs(origins) do
    table.insert(requests, wrk.format("GET", "/things", {["Origin"] = origin}))
    table.insert(requests, wrk.format("OPTIONS", "/things", {
      ["Origin"] = origin,
      ["Access-Control-Request-Method"] = "PUT",
      ["Access-Control-Request-Headers"] = "content-type",
    }))
  end
  checked, mismatches, server_errors, refused_preflights, other_non_2xx = 0, 0, 0, 0, 0
  allowed_a, allowed_b = 0, 0
  first_mismatch = ""
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

-- consistent reports whether an answer is one that either policy gives.
local function consistent(status, headers)
  local origin = headers["X-Request-Origin"]
  local method = headers["X-Request-Method"]
  local acao = headers["Access-Control-Allow-Origin"]
  local acac = headers["Access-Control-Allow-Credentials"]
  local vary = headers["Vary"] or ""
  if not string.find(vary, "Origin", 1, true) then
    return false
  end
  if acao == nil then
    -- refused: nothing of CORS but Vary
    if acac ~= nil or headers["Access-Control-Allow-Methods"] ~= nil then
      return false
    end
    if method == "OPTIONS" then
      return status == 403
    end
    return status == 200
  end
  -- allowed: only a or b, each its own, with credentials
  if acao ~= origin or (origin ~= "https://a.example" and origin ~= "https://b.example") or acac ~= "true" then
    return false
  end
  if method == "OPTIONS" then
    return status == 204 and headers["Access-Control-Allow-Methods"] == "PUT"
      and headers["Access-Control-Allow-Headers"] == "content-type"
  end
  return status == 200 and headers["Access-Control-Expose-Headers"] == "X-Request-Id"
end

function response(status, headers, body)
  checked = checked + 1
  if status >= 500 then
    server_errors = server_errors + 1
  elseif status == 403 and headers["X-Request-Method"] == "OPTIONS" then
    refused_preflights = refused_preflights + 1
  elseif status < 200 or status > 299 then
    other_non_2xx = other_non_2xx + 1
  end
  if control then
    return
  end
  if not consistent(status, headers) then
    mismatches = mismatches + 1
    if first_mismatch == "" then
      first_mismatch = status .. " " .. tostring(headers["X-Request-Method"]) .. " from " .. tostring(headers["X-Request-Origin"]) ..
        ": Access-Control-Allow-Origin " .. tostring(headers["Access-Control-Allow-Origin"])
    end
  elseif headers["Access-Control-Allow-Origin"] == "https://a.example" then
    allowed_a = allowed_a + 1
  elseif headers["Access-Control-Allow-Origin"] == "https://b.example" then
    allowed_b = allowed_b + 1
  end
end

function done(summary, latency, requests)
  local totals = {checked = 0, mismatches = 0, server_errors = 0, refused_preflights = 0, other_non_2xx = 0, allowed_a = 0, allowed_b = 0}
  local first = ""
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
    if first == "" then
      first = thread:get("first_mismatch")
    end
  end
  local e = summary.errors
  io.write(string.format("requests %d\n", summary.requests))
  io.write(string.format("checked answers %d\n", totals.checked))
  io.write(string.format("answers from neither policy %d\n", totals.mismatches))
  if first ~= "" then
    io.write("first answer from neither policy: " .. first .. "\n")
  end
  io.write(string.format("5xx answers %d\n", totals.server_errors))
  io.write(string.format("403 to refused preflights (expected) %d\n", totals.refused_preflights))
  io.write(string.format("other non-2xx answers %d\n", totals.other_non_2xx))
  io.write(string.format("allowed https://a.example %d, https://b.example %d\n", totals.allowed_a, totals.allowed_b))
  io.write(string.format("connection errors: connect %d, read %d, write %d, timeout %d\n", e.connect, e.read, e.write, e.timeout))
  io.write(string.format("latency p50 %.0f us, p99 %.0f us\n", latency:percentile(50), latency:percentile(99)))
end
