module qemu-bmc/test/compat/gofish

go 1.24

require github.com/stmcginnis/gofish v0.23.0
