# Attach an ISO as the node's virtual CD (Ironic API 1.89+; the baremetal CLI has no command for it yet).
# Ironic downloads ISO_URL, publishes it under [deploy]http_url and inserts that URL through Redfish.
curl -sS --fail-with-body -X POST \
  -H 'Content-Type: application/json' -H 'X-OpenStack-Ironic-API-Version: 1.93' \
  -d "{\"device_type\": \"cdrom\", \"image_url\": \"$ISO_URL\"}" \
  "$OS_ENDPOINT/v1/nodes/$NODE/vmedia"
