local function main()
  error("kaboom")
end
return {main = main}
