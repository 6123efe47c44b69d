-- wrk script for the evaluation bench (bench/evaluation-requests.ts writes the templates file):
-- every request takes the next context of the rotation and a userId of its own (1, 2, 3, …), so
-- no answer can be a cached one. Arguments: <templates file> <query|body> <method> <path>.
-- query: each line is a query string without userId; "&userId=N" is appended.
-- body: each line is a JSON body in which __USER__ stands for the user.
local templates = {}
local mode, method, path
local n = 0

function init(args)
  for line in io.lines(args[1]) do
    templates[#templates + 1] = line
  end
  mode, method, path = args[2], args[3], args[4]
end

function request()
  n = n + 1
  local template = templates[(n - 1) % #templates + 1]
  if mode == "query" then
    return wrk.format(method, path .. "?" .. template .. "&userId=" .. n)
  end
  local body = string.gsub(template, "__USER__", tostring(n))
  return wrk.format(method, path, nil, body)
end
