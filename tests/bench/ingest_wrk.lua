-- wrk script for tests/bench/test_ingest_bench.py: each wrk thread posts its own file of pre-signed reports,
-- one line each, in order; a thread that runs out idles on /healthz so that no report is sent twice.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  for line in io.lines(args[1] .. "/bodies-" .. id .. ".ndjson") do
    bodies[#bodies + 1] = line
  end
  token = args[2]
  index = 0
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
end

function request()
  index = index + 1
  if index > #bodies then
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("POST", "/v1/kpi-reports", headers, bodies[index])
end

function response(status, headers, body)
  if index <= #bodies and status ~= 201 then
    failures = (failures or 0) + 1
  end
end
