# Enroll a qemu-bmc BMC in Ironic with the ipmi hardware type (IPMI v2.0 over LAN, ipmitool lanplus).
# BMC_HOST: the VirtualBMC Service's cluster IP (or the agent's BMC_ADDRESS); IPMI_PORT: 623 there.
# BMC_USER / BMC_PASS: from the Secret <name>-bmc (keys username, password).
baremetal node create --name "$NODE" --driver ipmi \
  --driver-info ipmi_address="$BMC_HOST" \
  --driver-info ipmi_port="$IPMI_PORT" \
  --driver-info ipmi_username="$BMC_USER" \
  --driver-info ipmi_password="$BMC_PASS"
baremetal node manage --wait 120 "$NODE"
baremetal node show "$NODE" -f value -c provision_state -c power_state
