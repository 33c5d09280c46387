# Network boot next time (a one-time override), then read the boot device back through Ironic.
baremetal node boot device set "$NODE" pxe
baremetal node boot device show "$NODE" -f value -c boot_device
