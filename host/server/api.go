package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// startAPI binds the minimal HTTP listener: GET /healthz and GET /calls.
// The Chime-compatible call API comes later and mounts on the same mux.
func (s *Server) startAPI() error {
	ln, err := net.Listen("tcp", s.cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("server: api: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	// Everything else is the control API (host/api), which authenticates
	// every request; /metrics needs the admin key (metrics.go).
	mux.Handle("GET /metrics", s.ten.m.handler())
	mux.Handle("/", s.controlAPI())
	s.apiLn = ln
	s.api = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.apiDone = make(chan struct{})
	go func() {
		defer close(s.apiDone)
		if err := s.api.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api stopped", "err", err)
		}
	}()
	return nil
}

// callJSON is one live call in GET /calls.
type callJSON struct {
	TransactionID         string `json:"TransactionId"`
	TenantID              string `json:"TenantId"`
	SipMediaApplicationID string `json:"SipMediaApplicationId"`
	CallID                string `json:"CallId"`
	From                  string `json:"From"`
	To                    string `json:"To"`
	StartTime             string `json:"StartTime"`
}

func (s *Server) listCalls(w http.ResponseWriter, _ *http.Request) {
	calls := s.engine.Calls()
	out := struct {
		Calls []callJSON `json:"Calls"`
	}{Calls: make([]callJSON, 0, len(calls))}
	for _, c := range calls {
		out.Calls = append(out.Calls, callJSON{
			TransactionID: c.TransactionID, TenantID: c.TenantID,
			SipMediaApplicationID: c.SipMediaApplicationID, CallID: c.CallID,
			From: c.From, To: c.To, StartTime: c.StartTime.UTC().Format(time.RFC3339Nano),
		})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
