-- wrk script: POST the pre-generated callback requests, never one twice, and sort the answers.
-- Arguments (after `--`): requests file, number of wrk threads, result file (JSON), samples file.
-- Thread i sends lines i+1, i+1+T, ... so no two threads share a MsgId; the lines are round-robin
-- over the users, so one user's messages are the user count apart and arrive in order.

local threads = {}
local counter = 0
local SAMPLE_EVERY, SAMPLES_MAX = 199, 100

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local path, nthreads = args[1], tonumber(args[2])
   result_path, samples_path = args[3], args[4]
   local headers = { ["Content-Type"] = "text/xml; charset=utf-8" }
   reqs = {}
   local n = 0
   for line in io.lines(path) do
      if n % nthreads == id then
         local target, body = line:match("^([^\t]+)\t(.*)$")
         reqs[#reqs + 1] = wrk.format("POST", target, headers, body)
      end
      n = n + 1
   end
   -- wrk calls request() once on thread 0 to check the script, and sends nothing: give it a copy.
   if id == 0 then table.insert(reqs, 1, reqs[1]) end
   i, wrapped, answered = 0, 0, 0
   completed, prompted, encrypted, fixed, busy, other, non2xx = 0, 0, 0, 0, 0, 0, 0
   samples = {}
end

function request()
   i = i + 1
   if i > #reqs then
      i = 1
      wrapped = wrapped + 1 -- MsgIds repeat from here on: the bot answers them as duplicates
   end
   return reqs[i]
end

-- Plain replies are sorted here; encrypted ones by bench.py, from the samples and /metrics.
function response(status, headers, body)
   answered = answered + 1
   if answered % SAMPLE_EVERY == 0 and #samples < SAMPLES_MAX then
      samples[#samples + 1] = body
   end
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   elseif body:find("系统繁忙", 1, true) or body:find("还在处理中", 1, true) then
      busy = busy + 1
   elseif body:find("<Encrypt>", 1, true) then
      encrypted = encrypted + 1
   elseif body:find("个受理点：", 1, true) then
      completed = completed + 1
   elseif body:find("请发送您的位置", 1, true) then
      prompted = prompted + 1
   elseif body:find("<Content><![CDATA[bench ceiling]]>", 1, true) then
      fixed = fixed + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local keys = { "completed", "prompted", "encrypted", "fixed", "busy", "other", "non2xx", "wrapped" }
   local totals = {}
   for _, k in ipairs(keys) do totals[k] = 0 end
   local out = assert(io.open(threads[1]:get("samples_path"), "wb"))
   for _, t in ipairs(threads) do
      for _, k in ipairs(keys) do totals[k] = totals[k] + t:get(k) end
      for _, body in ipairs(t:get("samples")) do out:write(#body, "\n", body) end
   end
   out:close()
   local e = summary.errors
   local fields = {
      string.format('"requests": %d', summary.requests),
      string.format('"duration_us": %d', summary.duration),
      string.format('"latency_p50_us": %d', latency:percentile(50)),
      string.format('"latency_p99_us": %d', latency:percentile(99)),
      string.format('"latency_max_us": %d', latency.max),
      string.format('"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}',
         e.connect, e.read, e.write, e.timeout),
      string.format('"status_errors": %d', e.status),
   }
   for _, k in ipairs(keys) do fields[#fields + 1] = string.format('"%s": %d', k, totals[k]) end
   local f = assert(io.open(threads[1]:get("result_path"), "w"))
   f:write("{" .. table.concat(fields, ", ") .. "}\n")
   f:close()
end
