# Guest side of maas-flow.test.ts: runs at EVERY boot of the VM (the guest fixture's /init runs it; busybox sh,
# ipmitool, freeipmi's bmc-config and ipmi-locate, /dev/ipmi0 over KCS -> ipmi-bmc-extern -> the agent).
# The test prepends SETUP_PASSWORD=... . Lines the test reads start with "MF ", MAAS's registration with "MAAS ".
#
# The test talks to this script through the BMC itself: it sets LAN parameter 16 (SNMP community string, volatile in
# the agent) over RMCP+ and the guest reads it in-band. Values: cycle, commission[:user], idle, probe-*.
# Boot 1 (user 3 is not "maas" yet): ipmitool user set-up, then "chassis power cycle" when the mailbox says cycle.
# Later boots (user 3 is "maas"): a loop that prints the mailbox every few seconds (each line is an in-band
# round trip) and runs MAAS's commissioning BMC configuration when the mailbox says commission (user maas, MAAS's
# default) or commission:<user> (MAAS's maas_auto_ipmi_user setting), once per value and boot.

say() { echo "MF $*"; }

# LAN parameter 16 read in-band: revision byte, then 18 bytes of text padded with NULs.
mailbox() {
  raw=$(ipmitool raw 0x0c 0x02 0x01 0x10 0x00 0x00 2>/dev/null) || { echo "(in-band error)"; return; }
  text=""
  first=1
  for h in $raw; do
    if [ $first = 1 ]; then first=0; continue; fi
    [ "$h" = 00 ] && break
    text="$text$(printf "\\x$h")"
  done
  echo "$text"
}

user3=$(ipmitool user list 1 2>/dev/null | awk '$1 == 3 { print ($2 == "maas") ? "maas" : "other" }')

if [ "$user3" != maas ]; then
  say boot phase=setup user3=$user3
  ipmitool user set name 3 maas && say step user-set-name ok
  ipmitool user set password 3 "$SETUP_PASSWORD" >/dev/null && say step user-set-password ok
  ipmitool channel setaccess 1 3 callin=on ipmi=on link=on privilege=4 >/dev/null && say step channel-setaccess ok
  ipmitool user enable 3 && say step user-enable ok
  ipmitool lan print 1 2>/dev/null | grep -E '^(IP Address|MAC Address) ' | sed 's/^/MF lan /'
  ipmitool mc info 2>/dev/null | grep -E '^(IPMI Version|Device Available) ' | sed 's/^/MF mc /'
  ipmitool chassis bootdev pxe >/dev/null && say step bootdev-pxe ok
  say setup done
  i=0
  while [ $i -lt 600 ]; do
    [ "$(mailbox)" = cycle ] && break
    sleep 1
    i=$((i + 1))
  done
  say power cycle requested
  ipmitool chassis power cycle && say step power-cycle sent
  sleep 600
  exit 0
fi

# ---- MAAS commissioning: what bmc_config.py's IPMI class does, call for call, in sh instead of Python ----

# bmc-config --checkout parsed like _bmc_get_config(): "Section|Key|Value" lines, comments dropped.
checkout() {
  bmc-config --checkout "$@" 2>/dev/null | awk '
    { sub(/#.*/, ""); gsub(/^[ \t]+|[ \t]+$/, ""); if ($0 == "") next }
    section == "" && $1 == "Section" { section = $2; print section "||"; next }
    $1 == "EndSection" { section = ""; next }
    section != "" { key = $1; $1 = ""; sub(/^[ \t]+/, ""); print section "|" key "|" $0 }' >>/tmp/kv
}
has_section() { grep -q "^$1|" /tmp/kv; }
has_key() { grep -q "^$1|$2|" /tmp/kv; }
get() { awk -F'|' -v s="$1" -v k="$2" '$1 == s && $2 == k { v = $3 } END { print v }' /tmp/kv; }
# _bmc_set(): check_call, so a failure is the caller's to handle; the cache is updated on success.
bmc_set() {
  say "commit $1:$2"
  bmc-config --commit "--key-pair=$1:$2=$3" || return 1
  echo "$1|$2|$3" >>/tmp/kv
}
# _bmc_set_keys(): only keys the BMC listed, only when different; failures are warnings.
bmc_set_keys() {
  section=$1 value=$2
  shift 2
  if ! has_section "$section"; then
    echo "INFO: $section settings unavailable!"
    return
  fi
  for key in "$@"; do
    if has_key "$section" "$key" && [ "$(get "$section" "$key")" != "$value" ]; then
      bmc_set "$section" "$key" "$value" || echo "WARNING: Unable to set $section:$key to $value!"
    fi
  done
}

commission() {
  username=$1
  say commission begin user=$username
  # detected(): ipmi-locate, "IPMI Version: N.N" (or /dev/ipmiN)
  ipmi-locate >/tmp/locate 2>&1
  if grep -q 'IPMI Version: [0-9]\.[0-9]' /tmp/locate || [ -e /dev/ipmi0 ]; then
    say "detected $(grep -m1 -o 'IPMI Version: [0-9.]*' /tmp/locate)"
  else
    say not detected
    return 1
  fi

  # configure()
  : >/tmp/kv
  checkout
  say "checkout sections $(grep -c '||$' /tmp/kv)"
  for key in Volatile_Access_Mode Non_Volatile_Access_Mode; do
    if [ "$(get Lan_Channel $key)" != Always_Available ]; then
      bmc_set Lan_Channel $key Always_Available || echo "WARNING: Unable to set Lan_Channel:$key."
    fi
  done
  # MAAS builds these names as "<auth>_<volatility>", which no BMC lists; kept as MAAS has it (a no-op).
  bmc_set_keys Lan_Channel Yes Enable_User_Level_Auth_Volatile Enable_User_Level_Auth_Non_Volatile \
    Enable_Per_Message_Auth_Volatile Enable_Per_Message_Auth_Non_Volatile \
    Enable_Pef_Alerting_Volatile Enable_Pef_Alerting_Non_Volatile
  if has_section Lan_Channel_Auth; then
    for user in Callback User Admin OEM; do
      bmc_set_keys Lan_Channel_Auth No "${user}_Enable_Auth_Type_None" "${user}_Enable_Auth_Type_MD2" \
        "${user}_Enable_Auth_Type_OEM_Proprietary"
    done
    bmc_set_keys Lan_Channel_Auth Yes SOL_Payload_Access
  else
    echo "INFO: Lan_Channel_Auth settings unavailable!"
  fi

  # _config_cipher_suite_id(): bmc-config's view ...
  bc_ids=$(grep '^Rmcpplus_Conf_Privilege|Maximum_Privilege_Cipher_Suite_Id_' /tmp/kv |
    sed -n 's/^Rmcpplus_Conf_Privilege|Maximum_Privilege_Cipher_Suite_Id_\(1\{0,1\}[0-9]\)|.*/\1/p' | sort -un)
  bc_max=0
  for id in $bc_ids; do [ "$id" -gt $bc_max ] && bc_max=$id; done
  # ... and ipmitool's: "lan print N" for the first channel that answers, then its two cipher lines.
  channel=-1
  for c in 0 1 2 3 4 5 6 7 8; do
    if ipmitool lan print $c >/tmp/lanprint 2>/dev/null; then channel=$c; break; fi
  done
  it_ids=$(sed -n 's/^RMCP+ Cipher Suites *: *//p' /tmp/lanprint | tr ',' ' ')
  it_privs=$(sed -n 's/^Cipher Suite Priv Max *: *//p' /tmp/lanprint | head -n1)
  it_max=0
  for id in $it_ids; do
    case $id in 17 | 3 | 8 | 12) [ "$id" -gt $it_max ] && it_max=$id ;; esac
  done
  say "ciphers bmc-config=[$(echo $bc_ids)] max=$bc_max ipmitool=[$it_ids] privs=$it_privs max=$it_max channel=$channel"
  cipher=""
  if [ $bc_max -ge $it_max ]; then
    for id in 17 3 8 12; do
      echo " $bc_ids " | tr '\n' ' ' | grep -q " $id " || continue
      if [ "$(get Rmcpplus_Conf_Privilege Maximum_Privilege_Cipher_Suite_Id_$id)" != Administrator ]; then
        bmc_set Rmcpplus_Conf_Privilege Maximum_Privilege_Cipher_Suite_Id_$id Administrator || continue
      fi
      cipher=$id
      break
    done
    for id in $bc_ids; do
      case $id in 17 | 3 | 8 | 12) continue ;; esac
      if [ "$(get Rmcpplus_Conf_Privilege Maximum_Privilege_Cipher_Suite_Id_$id)" != Unused ]; then
        bmc_set Rmcpplus_Conf_Privilege Maximum_Privilege_Cipher_Suite_Id_$id Unused ||
          echo "WARNING: Unable to disable insecure IPMI cipher suite id \"$id\"!"
      fi
    done
  else
    new=""
    i=0
    for id in $it_ids; do
      p=$(echo "$it_privs" | cut -c$((i + 1)))
      if [ "$id" -le 17 ]; then
        if [ "$id" = "$it_max" ]; then
          p=a
        else
          case $id in 17 | 3 | 8 | 12) ;; *) p=X ;; esac
        fi
      fi
      new="$new$p"
      i=$((i + 1))
    done
    new="$new$(echo "$it_privs" | cut -c$((i + 1))-)"
    if [ "$new" = "$it_privs" ]; then
      cipher=$it_max
    elif ipmitool lan set $channel cipher_privs "$new"; then
      cipher=$it_max
    else
      echo "WARNING: Unable to configure IPMI cipher suites with ipmitool!"
    fi
  fi
  say "cipher chosen=${cipher:-none}"

  # _config_kg(): no K_g given; an existing non-zero K_G would be reported.
  kg=$(get Lan_Conf_Security_Keys K_G)
  case $kg in '' | 0x0*) kg="" ;; esac

  bmc_set_keys Serial_Channel Yes Enable_User_Level_Auth_Volatile Enable_User_Level_Auth_Non_Volatile \
    Enable_Per_Message_Auth_Volatile Enable_Per_Message_Auth_Non_Volatile \
    Enable_Pef_Alerting_Volatile Enable_Pef_Alerting_Non_Volatile
  bmc_set_keys SOL_Conf Yes Force_SOL_Payload_Authentication Force_SOL_Payload_Encryption

  # add_bmc_user(): the user with MAAS's user name, else the first User section (not User1) without a name.
  slot=""
  first_unused=""
  for section in $(sed -n 's/^\(User[0-9]*\)||$/\1/p' /tmp/kv); do
    [ "$section" = User1 ] && continue
    name=$(get "$section" Username)
    if [ "$name" = "$username" ]; then
      slot=$section
      echo "INFO: Found existing IPMI user \"$username\"!"
      break
    fi
    if [ -z "$first_unused" ] && { [ -z "$name" ] || [ "$name" = "(Empty User)" ]; }; then first_unused=$section; fi
  done
  [ -n "$slot" ] || slot=$first_unused
  say "user slot=$slot"
  # _generate_random_password(): 10..15 letters and digits
  length=$((10 + $(od -An -N1 -tu1 /dev/urandom) % 6))
  password=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c $length)
  for pair in "Username=$username" "Password=$password" "Enable_User=Yes" "Lan_Privilege_Limit=Administrator" \
    "Lan_Enable_IPMI_Msgs=Yes"; do
    key=${pair%%=*}
    value=${pair#*=}
    if [ "$(get "$slot" "$key")" != "$value" ]; then
      bmc_set "$slot" "$key" "$value" || {
        echo "ERROR: Unable to add BMC user!"
        return 1
      }
    fi
  done
  bmc_set_keys "$slot" Yes Lan_Enable_Link_Auth SOL_Payload_Access Serial_Enable_Link_Auth

  # get_credentials()
  if grep -q 'IPMI Version: 2.0' /tmp/locate; then driver=LAN_2_0; else driver=LAN; fi
  if [ -d /sys/firmware/efi ]; then boot_type=efi; else boot_type=auto; fi
  # get_bmc_ip(): Lan_Conf IP_Address (re-read, as MAAS does when it has to look again) and MAC_Address
  : >/tmp/kv
  checkout -S Lan_Conf
  address=$(get Lan_Conf IP_Address | grep -o -m1 -E '([0-9]{1,3}\.){3}[0-9]{1,3}')
  mac=$(get Lan_Conf MAC_Address)
  [ "$address" = 0.0.0.0 ] && address=""
  echo "MAAS power_type: ipmi"
  echo "MAAS power_address: $address"
  echo "MAAS power_user: $username"
  echo "MAAS power_pass: $password"
  echo "MAAS power_driver: $driver"
  echo "MAAS power_boot_type: $boot_type"
  echo "MAAS k_g: $kg"
  echo "MAAS cipher_suite_id: $cipher"
  echo "MAAS privilege_level: ADMIN"
  echo "MAAS mac_address: $mac"
  say commission done user=$username
}

say boot phase=running user3=$user3
commissioned=" "
tick=0
while [ $tick -lt 3000 ]; do
  m=$(mailbox)
  case "$m" in
    commission | commission:*)
      case "$commissioned" in
        *" $m "*) ;;
        *)
          commissioned="$commissioned$m "
          user=${m#commission}
          user=${user#:}
          commission "${user:-maas}" || say commission failed user=${user:-maas}
          ;;
      esac
      ;;
  esac
  say "tick $tick mailbox=$m"
  sleep 2
  tick=$((tick + 1))
done
