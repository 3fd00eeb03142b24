-- wrk script for bench/: counts responses outside 2xx (wrk itself only counts >= 400)
-- and prints the run's figures as one JSON line, so nothing scrapes wrk's text output.
-- Usage: wrk -t1 -c64 -d5s --latency -s bench/report.lua http://127.0.0.1:PORT/json

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  responses = 0
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non, seen = 0, 0
  for _, thread in ipairs(threads) do
    non = non + thread:get("non2xx")
    seen = seen + thread:get("responses")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us": %d, "requests": %d, "responses": %d, "bytes": %d, "non_2xx": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "stdev": %.1f, "max": %d, ' ..
    '"p50": %d, "p75": %d, "p90": %d, "p99": %d}}\n',
    summary.duration, summary.requests, seen, summary.bytes, non,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(99)))
end
