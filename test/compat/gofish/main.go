// gofish-driver drives a Redfish service the way Go tooling built on gofish does, and prints one JSON object.
//
//	gofish-driver [flags] state
//	gofish-driver [flags] power on|off|reset
//	gofish-driver [flags] bootonce pxe|cd|hdd
//	gofish-driver [flags] insertmedia URL
//	gofish-driver [flags] ejectmedia
//
// Flags (or env): -url (REDFISH_URL), -user (REDFISH_USER), -password (REDFISH_PASSWORD), -insecure
// (REDFISH_INSECURE=1), -ca-file (REDFISH_CA_FILE), -auth session|basic, -system ID (default: the first).
// Exit codes: 0 success, 1 the service or the connection failed, 2 bad usage. Output is JSON on stdout either way.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/stmcginnis/gofish"
	"github.com/stmcginnis/gofish/schemas"
)

type options struct {
	url, user, password, caFile, auth, system string
	insecure                                  bool
	timeout                                   time.Duration
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
	if len(rest) == 0 {
		return nil, usageError{"missing command: state | power on|off|reset | bootonce pxe|cd|hdd | insertmedia URL | ejectmedia"}
	}
	command, operands := rest[0], rest[1:]
	if err := checkOperands(command, operands); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()
	client, err := connect(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", opts.url, err)
	}
	defer client.Logout()

	system, err := findSystem(client, opts.system)
	if err != nil {
		return nil, err
	}
	switch command {
	case "state":
		return describe(system), nil
	case "power":
		return power(system, operands[0])
	case "bootonce":
		return bootOnce(system, operands[0])
	case "insertmedia":
		return insertMedia(system, operands[0])
	default: // ejectmedia
		return ejectMedia(system)
	}
}

func parseFlags(args []string) (options, []string, error) {
	fs := flag.NewFlagSet("gofish-driver", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	var o options
	fs.StringVar(&o.url, "url", os.Getenv("REDFISH_URL"), "Redfish service URL, e.g. https://127.0.0.1:8443")
	fs.StringVar(&o.user, "user", os.Getenv("REDFISH_USER"), "user name")
	fs.StringVar(&o.password, "password", os.Getenv("REDFISH_PASSWORD"), "password")
	fs.StringVar(&o.caFile, "ca-file", os.Getenv("REDFISH_CA_FILE"), "PEM file of CAs to trust instead of the system's")
	fs.BoolVar(&o.insecure, "insecure", os.Getenv("REDFISH_INSECURE") == "1", "skip TLS certificate verification")
	fs.StringVar(&o.auth, "auth", "session", "session (SessionService token, gofish's default) or basic")
	fs.StringVar(&o.system, "system", "", "ComputerSystem Id (default: the first member of /redfish/v1/Systems)")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "overall deadline")
	if err := fs.Parse(args); err != nil {
		return o, nil, usageError{err.Error()}
	}
	if o.url == "" {
		return o, nil, usageError{"-url (or REDFISH_URL) is required"}
	}
	if o.auth != "session" && o.auth != "basic" {
		return o, nil, usageError{fmt.Sprintf("-auth must be session or basic, got %q", o.auth)}
	}
	if o.insecure && o.caFile != "" {
		return o, nil, usageError{"-insecure and -ca-file exclude each other"}
	}
	return o, fs.Args(), nil
}

func checkOperands(command string, operands []string) error {
	want := map[string][]string{
		"state":       nil,
		"ejectmedia":  nil,
		"power":       {"on", "off", "reset"},
		"bootonce":    {"pxe", "cd", "hdd"},
		"insertmedia": {}, // any URL
	}
	allowed, known := want[command]
	if !known {
		return usageError{fmt.Sprintf("unknown command %q", command)}
	}
	wantCount := 1
	if allowed == nil {
		wantCount = 0
	}
	if len(operands) != wantCount {
		return usageError{fmt.Sprintf("%s takes %d operand(s), got %d", command, wantCount, len(operands))}
	}
	if len(allowed) > 0 && !slices.Contains(allowed, operands[0]) {
		return usageError{fmt.Sprintf("%s: %q is not one of %v", command, operands[0], allowed)}
	}
	return nil
}

func connect(ctx context.Context, o options) (*gofish.APIClient, error) {
	config := gofish.ClientConfig{
		Endpoint:  o.url,
		Username:  o.user,
		Password:  o.password,
		Insecure:  o.insecure,
		BasicAuth: o.auth == "basic",
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
		config.HTTPClient = &http.Client{
			Timeout:   o.timeout,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		}
	}
	return gofish.ConnectContext(ctx, config)
}

func findSystem(client *gofish.APIClient, id string) (*schemas.ComputerSystem, error) {
	systems, err := client.GetService().Systems()
	if err != nil {
		return nil, fmt.Errorf("list systems: %w", err)
	}
	for _, system := range systems {
		if id == "" || system.ID == id {
			return system, nil
		}
	}
	if id == "" {
		return nil, errors.New("the service lists no ComputerSystem")
	}
	return nil, fmt.Errorf("no ComputerSystem with Id %q", id)
}

func describe(system *schemas.ComputerSystem) map[string]any {
	return map[string]any{
		"system":     system.ID,
		"odataId":    system.ODataID,
		"powerState": system.PowerState,
		"boot": map[string]any{
			"target":  system.Boot.BootSourceOverrideTarget,
			"enabled": system.Boot.BootSourceOverrideEnabled,
			"mode":    system.Boot.BootSourceOverrideMode,
		},
	}
}

func power(system *schemas.ComputerSystem, action string) (map[string]any, error) {
	resetType := map[string]schemas.ResetType{
		"on":    schemas.OnResetType,
		"off":   schemas.ForceOffResetType,
		"reset": schemas.ForceRestartResetType,
	}[action]
	if _, err := system.Reset(resetType); err != nil {
		return nil, fmt.Errorf("reset %s: %w", resetType, err)
	}
	return map[string]any{"system": system.ID, "resetType": resetType}, nil
}

func bootOnce(system *schemas.ComputerSystem, device string) (map[string]any, error) {
	target := map[string]schemas.BootSource{
		"pxe": schemas.PxeBootSource,
		"cd":  schemas.CdBootSource,
		"hdd": schemas.HddBootSource,
	}[device]
	boot := &schemas.Boot{
		BootSourceOverrideTarget:  target,
		BootSourceOverrideEnabled: schemas.OnceBootSourceOverrideEnabled,
	}
	if err := system.SetBoot(boot); err != nil {
		return nil, fmt.Errorf("set boot override: %w", err)
	}
	return map[string]any{"system": system.ID, "target": target, "enabled": boot.BootSourceOverrideEnabled}, nil
}

// cdSlot finds the CD/DVD virtual media: on the system (newer services) or on a manager of it (older ones).
func cdSlot(system *schemas.ComputerSystem) (*schemas.VirtualMedia, error) {
	isCD := func(media *schemas.VirtualMedia) bool {
		return slices.Contains(media.MediaTypes, schemas.CDVirtualMediaType) ||
			slices.Contains(media.MediaTypes, schemas.DVDVirtualMediaType)
	}
	candidates, err := system.VirtualMedia()
	if err != nil || len(candidates) == 0 {
		managers, managerErr := system.ManagedBy()
		if managerErr != nil {
			return nil, fmt.Errorf("find virtual media: %w", errors.Join(err, managerErr))
		}
		for _, manager := range managers {
			media, mediaErr := manager.VirtualMedia()
			if mediaErr == nil {
				candidates = append(candidates, media...)
			}
		}
	}
	for _, media := range candidates {
		if isCD(media) {
			return media, nil
		}
	}
	return nil, errors.New("no CD or DVD virtual media slot found on the system or its managers")
}

func insertMedia(system *schemas.ComputerSystem, image string) (map[string]any, error) {
	slot, err := cdSlot(system)
	if err != nil {
		return nil, err
	}
	inserted, writeProtected := true, true
	params := &schemas.VirtualMediaInsertMediaParameters{Image: image, Inserted: &inserted, WriteProtected: &writeProtected}
	if _, err := slot.InsertMedia(params); err != nil {
		return nil, fmt.Errorf("insert media into %s: %w", slot.ODataID, err)
	}
	return map[string]any{"slot": slot.ODataID, "image": image}, nil
}

func ejectMedia(system *schemas.ComputerSystem) (map[string]any, error) {
	slot, err := cdSlot(system)
	if err != nil {
		return nil, err
	}
	if _, err := slot.EjectMedia(); err != nil {
		return nil, fmt.Errorf("eject media from %s: %w", slot.ODataID, err)
	}
	return map[string]any{"slot": slot.ODataID}, nil
}
