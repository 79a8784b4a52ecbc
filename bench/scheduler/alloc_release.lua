-- wrk script for bench/scheduler/run.sh: each connection alternates
-- /allocate (a warm hit on its own action) and /release of what it got.
-- Run with as many threads as connections (-tN -cN): wrk keeps one Lua
-- state per thread, so one connection per thread keeps the pairs in order.
local counter = 0
local id = nil
local token = os.getenv("BENCH_TOKEN") or "bench"


function setup(thread)
	counter = counter + 1
	thread:set("name", "wrk" .. counter)
end

function init(args)
	wrk.headers["Authorization"] = "Bearer " .. token
	wrk.headers["Content-Type"] = "application/json"
end

function request()
	if id then
		local body = '{"container":"' .. id .. '","controller":"bench"}'
		id = nil
		return wrk.format("POST", "/release", nil, body)
	end
	local body = '{"namespace":"bench","name":"' .. name .. '","version":"1",' ..
		'"kind":"nodejs:20","memory":128,"digest":"","controller":"bench"}'
	return wrk.format("POST", "/allocate", nil, body)
end

function response(status, headers, body)
	if status == 200 then
		id = string.match(body, '"container":{"id":"(%x+)"')
	end
end
