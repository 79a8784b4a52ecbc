-- wrk script for bench/scheduler/run.sh: /allocate only. The action's one
-- free warm container belongs to another (live) controller, so every reply
-- is step 2's "forward to its owner" and the pool does not change: this is
-- the allocate path alone, with no /release between.
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "bench")
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"namespace":"bench","name":"shared","version":"1","kind":"nodejs:20",' ..
	'"memory":128,"digest":"","controller":"bench"}'
