# Boot a live ISO through the redfish-virtual-media boot interface, the way Metal3 does for
# `image.format: live-iso`: the ramdisk deploy interface, instance_info/boot_iso, and the MAC of the
# NIC the node boots from (Metal3's bootMACAddress) as an Ironic port. BOOT_MODE (bios or uefi, Metal3's
# bootMode) is what Ironic asks the BMC for: the agent then starts the VM with SeaBIOS or OVMF.
baremetal port create "$BOOT_MAC" --node "$(baremetal node show "$NODE" -f value -c uuid)"
baremetal node provide --wait 120 "$NODE"
baremetal node set "$NODE" --property capabilities="boot_mode:$BOOT_MODE" \
  --deploy-interface ramdisk --instance-info boot_iso="$ISO_URL"
baremetal node deploy --wait 300 "$NODE"
baremetal node show "$NODE" -f value -c provision_state -c power_state
