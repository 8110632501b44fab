local function main(why)
  error(why)
end
return {main = main}
