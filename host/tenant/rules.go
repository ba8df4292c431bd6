package tenant

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Trigger types of a SIP rule, Chime's SipRuleTriggerType.
const (
	// TriggerToPhoneNumber routes calls to one of the tenant's numbers.
	TriggerToPhoneNumber = "ToPhoneNumber"
	// TriggerRequestURIHostname routes calls whose Request-URI host is the
	// trigger value, when their number has no rule of its own.
	TriggerRequestURIHostname = "RequestUriHostname"
)

// MaxRuleTargets is Chime's limit of target applications per rule.
const MaxRuleTargets = 25

// RuleTarget is one application a rule routes to. Calls go to the target
// with the lowest Priority whose application has a plugin or a webhook.
type RuleTarget struct {
	App      string `json:"app"`
	Priority int    `json:"priority"`
	// Region is kept as given (Chime's AwsRegion); routing ignores it.
	Region string `json:"region,omitempty"`
}

// Rule is a SIP rule: which application a call reaches, by the number
// called or by the host of its Request-URI. A trigger value has at most one
// rule server-wide: a number belongs to one tenant, and a hostname to the
// first tenant that claims it.
type Rule struct {
	ID           string       `json:"id"`
	Tenant       string       `json:"tenant"`
	Name         string       `json:"name"`
	TriggerType  string       `json:"trigger_type"`
	TriggerValue string       `json:"trigger_value"`
	Disabled     bool         `json:"disabled,omitempty"`
	Targets      []RuleTarget `json:"targets"`
	Created      time.Time    `json:"created"`
	Updated      time.Time    `json:"updated"`
}

// RuleUpdate is what UpdateRule changes; nil fields are kept.
type RuleUpdate struct {
	Name     string
	Disabled *bool
	Targets  []RuleTarget
}

var hostLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// NewID returns a random (version 4) UUID in lowercase, which is also a
// valid registry id: Chime's form of application and rule ids.
func NewID() string { return uuid.NewString() }

// triggerKey is the key of the server-wide index of trigger values.
func triggerKey(typ, value string) []byte { return []byte(typ + "\x00" + value) }

// normalizeTrigger validates a trigger and returns its stored form
// (hostnames in lower case).
func normalizeTrigger(typ, value string) (string, error) {
	switch typ {
	case TriggerToPhoneNumber:
		return value, validNumber(value)
	case TriggerRequestURIHostname:
		h := strings.ToLower(strings.TrimSuffix(value, "."))
		ok := len(h) > 0 && len(h) <= 253
		for _, l := range strings.Split(h, ".") {
			ok = ok && hostLabel.MatchString(l)
		}
		if !ok {
			return "", fmt.Errorf("%w: TriggerValue %q is not a hostname", ErrInvalid, value)
		}
		return h, nil
	}
	return "", fmt.Errorf("%w: TriggerType %q: want %s or %s", ErrInvalid, typ, TriggerToPhoneNumber, TriggerRequestURIHostname)
}

func validRuleName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: Name is required", ErrInvalid)
	}
	return validName(name)
}

// checkTargets validates targets against tenant's applications.
func checkTargets(tx *bolt.Tx, tenant string, ts []RuleTarget) error {
	if len(ts) == 0 || len(ts) > MaxRuleTargets {
		return fmt.Errorf("%w: %d target applications, want 1 to %d", ErrInvalid, len(ts), MaxRuleTargets)
	}
	for _, t := range ts {
		if t.Priority < 1 {
			return fmt.Errorf("%w: target %q: Priority %d, want 1 or more", ErrInvalid, t.App, t.Priority)
		}
		if _, err := appIn(tx, tenant, t.App); err != nil {
			return err
		}
	}
	return nil
}

// CreateRule adds a SIP rule to tenant. A ToPhoneNumber rule needs one of
// the tenant's numbers; a trigger value that already has a rule is
// ErrExists (the tenant's own) or ErrTaken (another tenant's hostname).
func (r *Registry) CreateRule(tenant string, rule Rule) (Rule, error) {
	if err := validID("rule", rule.ID); err != nil {
		return Rule{}, err
	}
	if err := validRuleName(rule.Name); err != nil {
		return Rule{}, err
	}
	value, err := normalizeTrigger(rule.TriggerType, rule.TriggerValue)
	if err != nil {
		return Rule{}, err
	}
	now := r.now().UTC()
	rule.Tenant, rule.TriggerValue, rule.Created, rule.Updated = tenant, value, now, now
	rule.Targets = slices.Clone(rule.Targets)
	err = r.update(func(tx *bolt.Tx, _ func()) error {
		return createRuleIn(tx, rule)
	})
	if err != nil {
		return Rule{}, fmt.Errorf("tenant: create rule: %w", err)
	}
	return rule, nil
}

func createRuleIn(tx *bolt.Tx, rule Rule) error {
	if _, err := tenantIn(tx, rule.Tenant); err != nil {
		return err
	}
	if err := checkTargets(tx, rule.Tenant, rule.Targets); err != nil {
		return err
	}
	if rule.TriggerType == TriggerToPhoneNumber {
		if _, err := numberIn(tx, rule.Tenant, rule.TriggerValue); err != nil {
			return err
		}
	}
	if tx.Bucket(bucketRules).Get(scoped(rule.Tenant, rule.ID)) != nil {
		return fmt.Errorf("rule %s: %w", rule.ID, ErrExists)
	}
	tk := triggerKey(rule.TriggerType, rule.TriggerValue)
	if owner := tx.Bucket(bucketTriggers).Get(tk); owner != nil {
		if tenantOf(owner) == rule.Tenant {
			return fmt.Errorf("%s %s already has rule %s: %w", rule.TriggerType, rule.TriggerValue, idOf(owner), ErrExists)
		}
		return fmt.Errorf("%s %s: %w", rule.TriggerType, rule.TriggerValue, ErrTaken)
	}
	if err := tx.Bucket(bucketTriggers).Put(tk, scoped(rule.Tenant, rule.ID)); err != nil {
		return err
	}
	return put(tx, bucketRules, scoped(rule.Tenant, rule.ID), rule)
}

func tenantOf(scopedKey []byte) string {
	t, _, _ := strings.Cut(string(scopedKey), "\x00")
	return t
}

func idOf(scopedKey []byte) string {
	_, id, _ := strings.Cut(string(scopedKey), "\x00")
	return id
}

func ruleIn(tx *bolt.Tx, tenant, id string) (Rule, error) {
	rule, ok, err := get[Rule](tx, bucketRules, scoped(tenant, id))
	if err != nil {
		return Rule{}, err
	}
	if !ok {
		return Rule{}, fmt.Errorf("rule %q: %w", id, ErrNotFound)
	}
	return rule, nil
}

// GetRule returns one of tenant's rules.
func (r *Registry) GetRule(tenant, id string) (Rule, error) {
	var rule Rule
	err := r.view(func(tx *bolt.Tx) error {
		var err error
		rule, err = ruleIn(tx, tenant, id)
		return err
	})
	if err != nil {
		return Rule{}, fmt.Errorf("tenant: get rule: %w", err)
	}
	return rule, nil
}

// ListRules returns tenant's rules in id order; app "" lists all, another
// value only the rules that target that application.
func (r *Registry) ListRules(tenant, app string) ([]Rule, error) {
	var out []Rule
	err := r.view(func(tx *bolt.Tx) error {
		return scan(tx, bucketRules, scoped(tenant, ""), func(_ []byte, rule Rule) error {
			if app == "" || slices.ContainsFunc(rule.Targets, func(t RuleTarget) bool { return t.App == app }) {
				out = append(out, rule)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list rules: %w", err)
	}
	return out, nil
}

// UpdateRule changes a rule's name, and its Disabled flag and targets
// when given.
func (r *Registry) UpdateRule(tenant, id string, u RuleUpdate) (Rule, error) {
	if err := validRuleName(u.Name); err != nil {
		return Rule{}, err
	}
	var rule Rule
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		var err error
		if rule, err = ruleIn(tx, tenant, id); err != nil {
			return err
		}
		if u.Targets != nil {
			if err := checkTargets(tx, tenant, u.Targets); err != nil {
				return err
			}
			rule.Targets = slices.Clone(u.Targets)
		}
		if u.Disabled != nil {
			rule.Disabled = *u.Disabled
		}
		rule.Name, rule.Updated = u.Name, r.now().UTC()
		return put(tx, bucketRules, scoped(tenant, id), rule)
	})
	if err != nil {
		return Rule{}, fmt.Errorf("tenant: update rule: %w", err)
	}
	return rule, nil
}

// DeleteRule removes one of tenant's rules: calls it routed are refused.
func (r *Registry) DeleteRule(tenant, id string) error {
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		rule, err := ruleIn(tx, tenant, id)
		if err != nil {
			return err
		}
		return deleteRuleIn(tx, rule)
	})
	if err != nil {
		return fmt.Errorf("tenant: delete rule: %w", err)
	}
	return nil
}

func deleteRuleIn(tx *bolt.Tx, rule Rule) error {
	if err := tx.Bucket(bucketTriggers).Delete(triggerKey(rule.TriggerType, rule.TriggerValue)); err != nil {
		return err
	}
	return tx.Bucket(bucketRules).Delete(scoped(rule.Tenant, rule.ID))
}

// numberRule returns tenant's ToPhoneNumber rule of number, if any.
func numberRule(tx *bolt.Tx, tenant, number string) (Rule, bool, error) {
	owner := tx.Bucket(bucketTriggers).Get(triggerKey(TriggerToPhoneNumber, number))
	if owner == nil || tenantOf(owner) != tenant {
		return Rule{}, false, nil
	}
	return get[Rule](tx, bucketRules, owner)
}

// target is the application a rule sends calls to now: the enabled rule's
// lowest-priority target whose application can take calls (a plugin or a
// webhook), else its lowest-priority target; "" for a disabled rule.
func (rule Rule) target(tx *bolt.Tx) (Application, bool, error) {
	var lookupErr error
	a, ok := rule.targetIn(func(id string) (Application, bool) {
		a, ok, err := get[Application](tx, bucketApps, scoped(rule.Tenant, id))
		if err != nil && lookupErr == nil {
			lookupErr = err
		}
		return a, ok
	})
	if lookupErr != nil {
		return Application{}, false, lookupErr
	}
	return a, ok, nil
}

// targetIn is target with the rule's tenant's applications found by app.
func (rule Rule) targetIn(app func(id string) (Application, bool)) (Application, bool) {
	if rule.Disabled {
		return Application{}, false
	}
	ts := slices.SortedStableFunc(slices.Values(rule.Targets), func(a, b RuleTarget) int { return cmp.Compare(a.Priority, b.Priority) })
	var first Application
	for i, t := range ts {
		a, ok := app(t.App)
		if !ok {
			continue
		}
		if a.Plugin != "" || a.Webhook != "" {
			return a, true
		}
		if i == 0 || first.ID == "" {
			first = a
		}
	}
	return first, first.ID != ""
}

// withRuleApp fills n.App from the number's rule (Number.App is how the
// API shows a number's route).
func withRuleApp(tx *bolt.Tx, n Number) (Number, error) {
	n.App = ""
	rule, ok, err := numberRule(tx, n.Tenant, n.Number)
	if err != nil || !ok {
		return n, err
	}
	a, ok, err := rule.target(tx)
	if ok {
		n.App = a.ID
	}
	return n, err
}

// migrateNumberRules turns the routes stored on numbers by earlier
// versions (Number.App) into ToPhoneNumber rules, once.
func migrateNumberRules(tx *bolt.Tx, now time.Time) error {
	var old []Number
	err := scan(tx, bucketNumbers, nil, func(_ []byte, n Number) error {
		if n.App != "" {
			old = append(old, n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range old {
		if tx.Bucket(bucketTriggers).Get(triggerKey(TriggerToPhoneNumber, n.Number)) == nil {
			rule := Rule{ID: NewID(), Tenant: n.Tenant, Name: n.Number, TriggerType: TriggerToPhoneNumber,
				TriggerValue: n.Number, Targets: []RuleTarget{{App: n.App, Priority: 1}}, Created: now, Updated: now}
			// An application gone missing leaves the number unrouted.
			if err := createRuleIn(tx, rule); err != nil && !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("number %s: %w", n.Number, err)
			}
		}
		n.App = ""
		if err := put(tx, bucketNumbers, []byte(n.Number), n); err != nil {
			return err
		}
	}
	return nil
}
