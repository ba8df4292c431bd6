package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/config"
)

// Tenants ("tenant …"): admin-key commands.

const usageTenantList = `Usage: mediactl tenant list

Lists the tenants and their dial policies (admin key). DIAL HOSTS are the
SIP hosts a destination URI may name to be called directly ("none": no
host), DIAL PREFIXES the number prefixes callable through the trunks
("any": every number a trunk serves); "default" is the server's [dial]
configuration.

Example:
  mediactl -key-file admin-key tenant list
`

const usageTenantCreate = `Usage: mediactl tenant create [-name NAME] [-host H]... [-prefix P]... ID

Creates a tenant (admin key) and prints its id; -host and -prefix give it
its own dial policy at once (see "tenant dial-policy set -h"). Then
"mediactl -tenant ID key create NAME" makes the tenant's first API key.

Examples:
  mediactl tenant create -name "Acme Inc." acme
  mediactl tenant create -name Alarms -host pbx.alarms.test -prefix +4670 alarms
  mediactl -tenant acme key create deploy > acme-api-key
`

const usageTenantDialSet = `Usage: mediactl tenant dial-policy set TENANT [-host H]... [-prefix P]...

Sets a tenant's own dial policy, which replaces the server's default
([dial] in its configuration) for every call the server dials for the
tenant: outbound calls, CallAndBridge, iotcomms' call actions,
/placeivrcall and monitors (admin key).

-host (repeatable) is a SIP host a destination URI may name to be called
directly: a host name, *.domain for its subdomains, an address or a CIDR
network. A URI naming any other host is routed by its user part, as a
number. Without -host no SIP URI is called directly.
-prefix (repeatable) is a number prefix ("+46", "+1555") the tenant may
call through the trunks. Without -prefix every number a trunk serves may
be called.

Prints the policy as stored.

Examples:
  mediactl tenant dial-policy set acme -host pbx.acme.test -host 10.1.2.0/24 -prefix +46
  mediactl tenant dial-policy set alarms -host '*.alarms.test'
`

const usageTenantDialClear = `Usage: mediactl tenant dial-policy clear TENANT

Removes a tenant's own dial policy: its calls follow the server's default
([dial] in its configuration) again (admin key).

Example:
  mediactl tenant dial-policy clear acme
`

const usageTenantDial = `Usage: mediactl tenant dial-policy set|clear TENANT [flags]

Sets or clears a tenant's own dial policy (admin key). Run
"mediactl tenant dial-policy set -h" for the flags.

Examples:
  mediactl tenant dial-policy set acme -host pbx.acme.test -prefix +46
  mediactl tenant dial-policy clear acme
`

func (s *session) tenantList(args []string) error {
	fs := s.flagSet("tenant list", usageTenantList)
	c, _, err := s.connect(fs, args, 0, 0)
	if err != nil {
		return err
	}
	ts, err := c.ListTenants(s.ctx)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.TenantList{Tenants: ts})
	}
	rows := make([][]string, 0, len(ts))
	for _, t := range ts {
		hosts, prefixes := dialColumns(t.DialPolicy)
		rows = append(rows, []string{t.TenantID, orDash(t.Name), hosts, prefixes, stamp(t.CreatedTimestamp)})
	}
	s.table([]string{"ID", "NAME", "DIAL HOSTS", "DIAL PREFIXES", "CREATED"}, rows)
	return nil
}

// dialColumns shows a policy's two lists.
func dialColumns(d *api.DialPolicy) (hosts, prefixes string) {
	if d == nil {
		return "default", "default"
	}
	hosts, prefixes = strings.Join(d.AllowedHosts, ","), strings.Join(d.AllowedPrefixes, ",")
	if hosts == "" {
		hosts = "none"
	}
	if prefixes == "" {
		prefixes = "any"
	}
	return hosts, prefixes
}

// dialFlags registers -host and -prefix on fs.
func dialFlags(fs *flag.FlagSet) (*listFlag, *listFlag) {
	var hosts, prefixes listFlag
	fs.Var(&hosts, "host", "a SIP host a destination URI may name: name, *.domain, address or CIDR (repeatable)")
	fs.Var(&prefixes, "prefix", "a number prefix callable through the trunks, e.g. +46 (repeatable)")
	return &hosts, &prefixes
}

// dialPolicy checks -host and -prefix as the server will.
func dialPolicy(hosts, prefixes listFlag) (*api.DialPolicy, error) {
	for _, h := range hosts {
		if !config.ValidDialHost(h) {
			return nil, fmt.Errorf("-host %q: want a host name, *.domain, an address or a CIDR network", h)
		}
	}
	for _, p := range prefixes {
		if !config.ValidDialPrefix(p) {
			return nil, fmt.Errorf("-prefix %q: want digits, optionally after a '+'", p)
		}
	}
	return &api.DialPolicy{AllowedHosts: hosts, AllowedPrefixes: prefixes}, nil
}

func (s *session) tenantCreate(args []string) error {
	fs := s.flagSet("tenant create", usageTenantCreate)
	name := fs.String("name", "", "a display name")
	hosts, prefixes := dialFlags(fs)
	pos, err := s.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	req := api.CreateTenantRequest{TenantID: pos[0], Name: *name}
	if len(*hosts)+len(*prefixes) > 0 {
		if req.DialPolicy, err = dialPolicy(*hosts, *prefixes); err != nil {
			return s.usageErr("tenant create: %v", err)
		}
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	t, err := c.CreateTenant(s.ctx, req)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.TenantResponse{Tenant: t})
	}
	fmt.Fprintln(s.stdout, t.TenantID)
	return nil
}

// tenantDialPolicy is "tenant dial-policy set|clear".
func (s *session) tenantDialPolicy(args []string) error {
	if len(args) == 0 {
		return s.usageErr("tenant dial-policy: missing set or clear (see -h)")
	}
	switch args[0] {
	case "set":
		return s.tenantDialSet(args[1:])
	case "clear":
		return s.tenantDialClear(args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(s.stderr, usageTenantDial+globalFlagsHelp)
		return exitError{exitOK}
	}
	return s.usageErr("tenant dial-policy: unknown command %q: want set or clear", args[0])
}

func (s *session) tenantDialSet(args []string) error {
	fs := s.flagSet("tenant dial-policy set", usageTenantDialSet)
	hosts, prefixes := dialFlags(fs)
	pos, err := s.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	p, err := dialPolicy(*hosts, *prefixes)
	if err != nil {
		return s.usageErr("tenant dial-policy set: %v", err)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	t, err := c.SetDialPolicy(s.ctx, pos[0], *p)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.TenantResponse{Tenant: t})
	}
	h, pr := dialColumns(t.DialPolicy)
	fmt.Fprintf(s.stdout, "tenant %s dials hosts: %s; prefixes: %s\n", t.TenantID, h, pr)
	return nil
}

func (s *session) tenantDialClear(args []string) error {
	fs := s.flagSet("tenant dial-policy clear", usageTenantDialClear)
	c, pos, err := s.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := c.ClearDialPolicy(s.ctx, pos[0]); err != nil {
		return s.failed(err)
	}
	return nil
}
