# Guest side of test/e2e/user-story.test.ts, baked into the e2e agent image as /guest/maas-inband.sh and handed to
# the guest fixture's /init through QEMU fw_cfg. The test prepends MAAS_PASSWORD=... . busybox sh, ipmitool and
# freeipmi's bmc-config; /dev/ipmi0 is the VM's KCS interface (ipmi-bmc-extern -> the agent in the same pod).
# It does what a MAAS commissioning run does in-band: create the BMC user MAAS will use out of band, then read back
# the address MAAS registers as power_address (LAN parameter 3), and powers off as commissioning does at its end.
say() { echo "E2E $*"; }

say boot
ipmitool mc info 2>/dev/null | grep -E '^(IPMI Version|Device Available) ' | sed 's/^/E2E mc /'
ipmitool user set name 3 maas && say step user-set-name ok
ipmitool user set password 3 "$MAAS_PASSWORD" >/dev/null && say step user-set-password ok
ipmitool channel setaccess 1 3 callin=on ipmi=on link=on privilege=4 >/dev/null && say step channel-setaccess ok
ipmitool user enable 3 && say step user-enable ok
ipmitool lan print 1 2>/dev/null | awk -F': ' '/^IP Address  /{ print "E2E lan ip=" $2 }'
# MAAS reads the address through freeipmi: bmc-config's Lan_Conf section, key IP_Address.
bmc-config --checkout --section=Lan_Conf 2>/dev/null | awk '$1 == "IP_Address" { print "E2E bmc-config ip=" $2 }'
say done
