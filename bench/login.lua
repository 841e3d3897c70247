-- wrk script for the login path: every request is POST /wx/login with a
-- new, single-use code "ok-bench_<thread>.<counter>" (the fake WeChat accepts
-- ok-<user>[.<nonce>], user in [A-Za-z0-9_]+; each thread is its own user,
-- the counter makes every code distinct). At the end it prints the status
-- codes seen, so that a non-2xx share can be explained.
--
--   wrk -t2 -c64 -d10s -s bench/login.lua http://127.0.0.1:PORT/wx/login

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

counter = 0
statuses = {}  -- global: done() reads it with thread:get

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local body = '{"code":"ok-bench_' .. id .. '.' .. counter .. '"}'
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
    end
  end
  local keys = {}
  for k in pairs(total) do table.insert(keys, k) end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do table.insert(parts, k .. "=" .. total[k]) end
  io.write("login statuses: " .. table.concat(parts, " ") .. "\n")
end
