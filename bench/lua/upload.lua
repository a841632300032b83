-- POSTs one small multipart image upload per request, as the bench users in turn.
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
end

function init(args)
  cookies = {}
  local thread_count = tonumber(os.getenv("WG_THREADS") or "2")
  local i = 0
  for sid in string.gmatch(os.getenv("WG_COOKIES") or "", "([^,]+)") do
    if i % thread_count == thread_index - 1 then table.insert(cookies, sid) end
    i = i + 1
  end
  local f = assert(io.open(os.getenv("WG_BODY_FILE"), "rb"))
  body = f:read("*a")
  f:close()
  content_type = os.getenv("WG_CONTENT_TYPE")
  cookie_name = os.getenv("WG_COOKIE_NAME") or "session"
  n = 0
end

function request()
  n = n + 1
  local headers = {["Content-Type"] = content_type,
                   ["Cookie"] = cookie_name .. "=" .. cookies[(n % #cookies) + 1]}
  return wrk.format("POST", "/storage/upload", headers, body)
end
