-- wrk script: each request checks one document number at a policenet node.
--
-- Environment: CHECK_NUMBERS (a file with one number a line), CHECK_TOKEN (the
-- officer's bearer token), CHECK_PATH (default /api/v1/documents/check).
-- The numbers are taken in turn by all connections; at the end one line
-- "wrk-json: {...}" carries the latency percentiles (microseconds) and errors.

local numbers = {}
local next_number = 0
local path = os.getenv("CHECK_PATH") or "/api/v1/documents/check"
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. (os.getenv("CHECK_TOKEN") or ""),
}

init = function(args)
  for line in io.lines(os.getenv("CHECK_NUMBERS")) do
    numbers[#numbers + 1] = line
  end
end

request = function()
  next_number = next_number % #numbers + 1
  local body = '{"documents":[{"number":"' .. numbers[next_number] .. '"}]}'
  return wrk.format("POST", path, headers, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'wrk-json: {"requests": %d, "seconds": %.3f, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_write": %d, "errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status,
    e.timeout))
end
