# What Ironic reads from the BMC: every virtual media device, inserted or not, and its image URL.
curl -sS --fail-with-body -H 'X-OpenStack-Ironic-API-Version: 1.93' "$OS_ENDPOINT/v1/nodes/$NODE/vmedia"
