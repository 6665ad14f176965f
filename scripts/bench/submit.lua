-- wrk script for bench.sh: POST a one-item task, as many as the server accepts.
wrk.method = "POST"
wrk.path = "/api/tasks"
wrk.body = '{"templateFunction":"true"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("DTS_TOKEN")
