package tenancy

import (
	"bytes"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wasmvoice/mediaserver/media"
)

// defaultMetricsTenants is how many tenants get their own label by
// default; the others share "other", so a server with thousands of
// tenants does not produce thousands of series per metric.
const defaultMetricsTenants = 20

// The metric methods are no-ops on a nil *metrics (a server that failed
// to start).

// otherTenant is the label of the tenants outside the top-N/allow-list.
const otherTenant = "other"

// metrics are the server's Prometheus metrics, on a registry of its own
// (no package globals, so two servers in one test binary do not collide).
type metrics struct {
	t   *Tenancy
	reg *prometheus.Registry

	calls      *prometheus.CounterVec   // tenant, direction, result
	events     *prometheus.CounterVec   // tenant, type
	errors     *prometheus.CounterVec   // tenant, kind
	invocation *prometheus.HistogramVec // tenant

	// RTP counters of the legs that have ended; live legs are read at
	// scrape time.
	rtpIn, rtpOut atomic.Uint64
	rtpDropped    [numDropReasons]atomic.Uint64 // by reason

	mu     sync.Mutex
	labels map[string]bool // tenants with a label of their own
}

func newMetrics(t *Tenancy) *metrics {
	m := &metrics{
		t:   t,
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediaserver_calls_total",
			Help: "Inbound calls by outcome of admission: accepted, not_found, unavailable, concurrent_calls, calls_per_second, refused.",
		}, []string{"tenant", "direction", "result"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediaserver_events_total",
			Help: "Events delivered to plugins, by InvocationEventType.",
		}, []string{"tenant", "type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediaserver_plugin_errors_total",
			Help: "Failed plugin invocations by kind (timeout, trap, memory limit, ...).",
		}, []string{"tenant", "kind"}),
		invocation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mediaserver_plugin_invocation_seconds",
			Help:    "Time to handle one event, including the wait for the tenant's CPU share.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"tenant"}),
		labels: map[string]bool{},
	}
	m.reg.MustRegister(m.calls, m.events, m.errors, m.invocation, (*liveCollector)(m),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.relabel()
	return m
}

// relabel recomputes which tenants get their own label: the first
// defaultMetricsTenants tenant ids in order.
func (m *metrics) relabel() {
	labels := map[string]bool{}
	if ts, err := m.t.reg.ListTenants(); err == nil {
		top := defaultMetricsTenants
		ids := make([]string, 0, len(ts))
		for _, t := range ts {
			ids = append(ids, t.ID)
		}
		slices.Sort(ids)
		for _, id := range ids[:min(top, len(ids))] {
			labels[id] = true
		}
	}
	m.mu.Lock()
	m.labels = labels
	m.mu.Unlock()
}

func (m *metrics) tenant(id string) string {
	if id == "" {
		return "none"
	}
	m.mu.Lock()
	ok := m.labels[id]
	m.mu.Unlock()
	if ok {
		return id
	}
	return otherTenant
}

func (m *metrics) rejected(tenantID, why string) {
	if m == nil {
		return // not started
	}
	m.calls.WithLabelValues(m.tenant(tenantID), "inbound", why).Inc()
}

func (m *metrics) accepted(tenantID string) {
	if m == nil {
		return // not started
	}
	m.calls.WithLabelValues(m.tenant(tenantID), "inbound", "accepted").Inc()
}

var eventTypeField = []byte(`"InvocationEventType":"`)

// invoked counts one invocation. The event type is cut out of the JSON
// rather than decoded: this runs for every event.
func (m *metrics) invoked(tenantID string, event []byte, took time.Duration, err error) {
	if m == nil {
		return // not started
	}
	t := m.tenant(tenantID)
	m.events.WithLabelValues(t, eventType(event)).Inc()
	m.invocation.WithLabelValues(t).Observe(took.Seconds())
	if err != nil {
		m.errors.WithLabelValues(t, errorKind(err)).Inc()
	}
}

// eventType returns the event's InvocationEventType, "unknown" when it
// cannot be found or is not a plain upper-case name (the label set stays
// bounded whatever the bytes).
func eventType(event []byte) string {
	i := bytes.Index(event, eventTypeField)
	if i < 0 {
		return "unknown"
	}
	rest := event[i+len(eventTypeField):]
	j := bytes.IndexByte(rest, '"')
	if j <= 0 || j > 40 {
		return "unknown"
	}
	for _, c := range rest[:j] {
		if (c < 'A' || c > 'Z') && c != '_' {
			return "unknown"
		}
	}
	return string(rest[:j])
}

// LegEnded adds the RTP counters of a leg whose media was released to
// the metrics (callleg.Config.LegEnded).
func (t *Tenancy) LegEnded(st media.Stats) { t.m.legEnded(st) }

// MetricsHandler serves /metrics (after Start). Unless
// Options.MetricsOpen, it needs the admin key.
func (t *Tenancy) MetricsHandler() http.Handler { return t.m.handler() }

// legEnded adds an ended leg's RTP counters.
func (m *metrics) legEnded(st media.Stats) {
	if m == nil {
		return // not started
	}
	m.rtpIn.Add(st.RxPackets)
	m.rtpOut.Add(st.TxPackets)
	for i, n := range rtpDropped(st) {
		m.rtpDropped[i].Add(n)
	}
}

// Why a received RTP packet was dropped (mediaserver_rtp_dropped_total).
const (
	dropForeign    = iota // from an address other than the peer's
	dropRefused           // from an address media may not go to
	dropMalformed         // not RTP
	dropUnknownPT         // a payload type not negotiated
	dropBadSize           // empty or over 60 ms of audio
	dropInactive          // arrived while the call does not receive (hold)
	dropSRTPAuth          // SRTP that does not authenticate: tampered, another key, plain RTP
	dropSRTPReplay        // SRTP received before (a replay)
	numDropReasons
)

var dropReasons = [numDropReasons]string{"foreign", "refused", "malformed", "unknown_payload_type", "bad_size", "inactive", "srtp_auth", "srtp_replay"}

func rtpDropped(st media.Stats) [numDropReasons]uint64 {
	return [numDropReasons]uint64{st.RxForeign, st.RxRefused, st.RxMalformed, st.RxUnknownPT, st.RxBadSize, st.RxInactive, st.RxSRTPAuth, st.RxSRTPReplay}
}

// rtpCounters sums the RTP counters of ended legs (legEnded) and of the
// legs still up (Config.LiveRTP: released legs were added by legEnded).
func (m *metrics) rtpCounters() (in, out uint64, dropped [numDropReasons]uint64) {
	in, out = m.rtpIn.Load(), m.rtpOut.Load()
	for i := range dropped {
		dropped[i] = m.rtpDropped[i].Load()
	}
	var live []media.Stats
	if m.t.liveRTP != nil {
		live = m.t.liveRTP()
	}
	for _, st := range live {
		in += st.RxPackets
		out += st.TxPackets
		for i, n := range rtpDropped(st) {
			dropped[i] += n
		}
	}
	return in, out, dropped
}

// liveCollector reports what is read at scrape time: live calls, RTP
// counters (ended legs plus live ones), plugin pools.
type liveCollector metrics

var (
	descActive  = prometheus.NewDesc("mediaserver_calls_active", "Calls in progress.", []string{"tenant", "direction"}, nil)
	descRTP     = prometheus.NewDesc("mediaserver_rtp_packets_total", "RTP packets received (in), sent (out) and dropped on receipt.", []string{"direction"}, nil)
	descDropped = prometheus.NewDesc("mediaserver_rtp_dropped_total", "RTP packets dropped on receipt, by reason: foreign (another address than the peer's), refused (an address media may not go to), malformed, unknown_payload_type, bad_size, inactive (the call is on hold), srtp_auth (SRTP that does not authenticate: tampered, another key, or plain RTP on an SRTP call), srtp_replay (an SRTP packet received before).", []string{"reason"}, nil)
	descPool    = prometheus.NewDesc("mediaserver_plugin_instances", "Plugin instances alive, by state (live includes idle).", []string{"tenant", "state"}, nil)
	descLoaded  = prometheus.NewDesc("mediaserver_plugin_versions_loaded", "Plugin versions loaded (one pool each).", nil, nil)
)

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descActive
	ch <- descDropped
	ch <- descRTP
	ch <- descPool
	ch <- descLoaded
}

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	m := (*metrics)(c)
	t := m.t
	active := map[[2]string]float64{}
	if t.calls != nil {
		for _, cs := range t.calls() {
			active[[2]string{m.tenant(cs.TenantID), cs.Direction}]++
		}
	}
	for k, n := range active {
		ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, n, k[0], k[1])
	}
	in, out, dropped := m.rtpCounters()
	var all uint64
	for i, n := range dropped {
		all += n
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(n), dropReasons[i])
	}
	ch <- prometheus.MustNewConstMetric(descRTP, prometheus.CounterValue, float64(in), "in")
	ch <- prometheus.MustNewConstMetric(descRTP, prometheus.CounterValue, float64(out), "out")
	ch <- prometheus.MustNewConstMetric(descRTP, prometheus.CounterValue, float64(all), "dropped")

	pools := map[[2]string]float64{}
	loaded := 0
	t.mu.Lock()
	for k, v := range t.versions {
		select {
		case <-v.ready:
		default:
			continue
		}
		if v.p == nil {
			continue
		}
		loaded++
		st := v.p.Stats()
		label := m.tenant(k.tenant)
		pools[[2]string{label, "live"}] += float64(st.Live)
		pools[[2]string{label, "idle"}] += float64(st.Idle)
	}
	t.mu.Unlock()
	for k, n := range pools {
		ch <- prometheus.MustNewConstMetric(descPool, prometheus.GaugeValue, n, k[0], k[1])
	}
	ch <- prometheus.MustNewConstMetric(descLoaded, prometheus.GaugeValue, float64(loaded))
}

// handler serves /metrics. Unless Options.MetricsOpen, it needs the
// admin key, like the tenant administration routes: tenant ids are
// themselves information one tenant should not learn about another.
func (m *metrics) handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	if m.t.opts.MetricsOpen {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret := r.Header.Get("X-Api-Key")
		if auth := r.Header.Get("Authorization"); len(auth) > 7 && (auth[:7] == "Bearer " || auth[:7] == "bearer ") {
			secret = auth[7:]
		}
		_, key, err := m.t.reg.Authenticate(secret)
		if err != nil || !key.Admin {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mediaserver"`)
			http.Error(w, "metrics need the admin key (data/admin-api-key)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
