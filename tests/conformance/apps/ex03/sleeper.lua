local function main()
  process.inbox():receive()           -- nothing is ever sent; only a failing link ends it
end

return {main = main}
