// bmclib-driver drives a BMC through bmclib v2 the way Tinkerbell Rufio does, and prints one JSON object.
//
//	bmclib-driver [flags] state
//	bmclib-driver [flags] power on|off|soft|cycle|reset
//	bmclib-driver [flags] bootdevice pxe|disk|cdrom|bios
//
// Flags (or env): -host (BMC_HOST), -user (BMC_USER), -password (BMC_PASSWORD), -provider gofish|ipmitool|any,
// -redfish-port, -ipmi-port, -cipher-suite, -ca-file (trust only these CAs; without it bmclib skips TLS
// verification, as Rufio does by default), -basic-auth, -persistent, -efi, -timeout.
// Exit codes: 0 success, 1 the BMC or the connection failed, 2 bad usage. Output is JSON on stdout either way.
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	bmclib "github.com/bmc-toolbox/bmclib/v2"
)

type options struct {
	host, user, password, provider     string
	redfishPort, ipmiPort, cipherSuite string
	caFile                             string
	basicAuth, persistent, efi         bool
	timeout                            time.Duration
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	result, err := run(os.Args[1:])
	out := json.NewEncoder(os.Stdout)
	if err != nil {
		_ = out.Encode(map[string]any{"ok": false, "error": err.Error()})
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
	result["ok"] = true
	_ = out.Encode(result)
}

func run(args []string) (map[string]any, error) {
	opts, rest, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	if err := checkCommand(rest); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()
	client, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	if err := client.Open(ctx); err != nil {
		return nil, fmt.Errorf("open %s: %w", opts.host, err)
	}
	defer func() { _ = client.Close(ctx) }()

	result := map[string]any{}
	switch rest[0] {
	case "state":
		state, err := client.GetPowerState(ctx)
		if err != nil {
			return nil, fmt.Errorf("get power state: %w", err)
		}
		result["powerState"] = state
	case "power":
		ok, err := client.SetPowerState(ctx, rest[1])
		if err != nil || !ok {
			return nil, fmt.Errorf("set power %s: ok=%v: %w", rest[1], ok, err)
		}
		result["power"] = rest[1]
	default: // bootdevice
		ok, err := client.SetBootDevice(ctx, rest[1], opts.persistent, opts.efi)
		if err != nil || !ok {
			return nil, fmt.Errorf("set boot device %s: ok=%v: %w", rest[1], ok, err)
		}
		result["bootDevice"] = rest[1]
		result["persistent"] = opts.persistent
		result["efi"] = opts.efi
	}
	result["provider"] = client.GetMetadata().SuccessfulProvider
	return result, nil
}

func parseFlags(args []string) (options, []string, error) {
	fs := flag.NewFlagSet("bmclib-driver", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	var o options
	fs.StringVar(&o.host, "host", os.Getenv("BMC_HOST"), "BMC address (no scheme, no port)")
	fs.StringVar(&o.user, "user", os.Getenv("BMC_USER"), "user name")
	fs.StringVar(&o.password, "password", os.Getenv("BMC_PASSWORD"), "password")
	fs.StringVar(&o.provider, "provider", "any", "gofish (Redfish), ipmitool (IPMI over LAN), or any (bmclib's order)")
	fs.StringVar(&o.redfishPort, "redfish-port", "443", "Redfish HTTPS port")
	fs.StringVar(&o.ipmiPort, "ipmi-port", "623", "IPMI UDP port")
	fs.StringVar(&o.cipherSuite, "cipher-suite", "", "ipmitool -C cipher suite (default: ipmitool's)")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM file of CAs: verify the Redfish certificate against them")
	fs.BoolVar(&o.basicAuth, "basic-auth", false, "Redfish basic auth instead of a session")
	fs.BoolVar(&o.persistent, "persistent", false, "bootdevice: keep the override for every boot")
	fs.BoolVar(&o.efi, "efi", false, "bootdevice: request an EFI boot")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "overall deadline")
	if err := fs.Parse(args); err != nil {
		return o, nil, usageError{err.Error()}
	}
	if o.host == "" {
		return o, nil, usageError{"-host (or BMC_HOST) is required"}
	}
	if !slices.Contains([]string{"gofish", "ipmitool", "any"}, o.provider) {
		return o, nil, usageError{fmt.Sprintf("-provider must be gofish, ipmitool or any, got %q", o.provider)}
	}
	return o, fs.Args(), nil
}

func checkCommand(rest []string) error {
	operands := map[string][]string{
		"state":      nil,
		"power":      {"on", "off", "soft", "cycle", "reset"},
		"bootdevice": {"pxe", "disk", "cdrom", "bios"},
	}
	if len(rest) == 0 {
		return usageError{"missing command: state | power on|off|soft|cycle|reset | bootdevice pxe|disk|cdrom|bios"}
	}
	allowed, known := operands[rest[0]]
	if !known {
		return usageError{fmt.Sprintf("unknown command %q", rest[0])}
	}
	if allowed == nil {
		if len(rest) != 1 {
			return usageError{fmt.Sprintf("%s takes no operand", rest[0])}
		}
		return nil
	}
	if len(rest) != 2 || !slices.Contains(allowed, rest[1]) {
		return usageError{fmt.Sprintf("%s takes one of %v", rest[0], allowed)}
	}
	return nil
}

func newClient(o options) (*bmclib.Client, error) {
	opts := []bmclib.Option{
		bmclib.WithRedfishPort(o.redfishPort),
		bmclib.WithRedfishUseBasicAuth(o.basicAuth),
		bmclib.WithIpmitoolPort(o.ipmiPort),
		bmclib.WithPerProviderTimeout(o.timeout / 2),
	}
	if o.cipherSuite != "" {
		opts = append(opts, bmclib.WithIpmitoolCipherSuite(o.cipherSuite))
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", o.caFile)
		}
		opts = append(opts, bmclib.WithSecureTLS(pool))
	}
	client := bmclib.NewClient(o.host, o.user, o.password, opts...)
	if o.provider != "any" {
		client.Registry.Drivers = client.Registry.For(o.provider)
	}
	return client, nil
}
