package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/sensor/payload"
	"github.com/bwc-project/bwc/internal/sensor/webhook"
)

type schemaEntry struct {
	sch *payload.Schema
	err error
}

// webhook is POST /api/v1/webhooks/<url>: a core.webhook trigger whose
// payload is {"headers": {...}, "body": <the body, JSON or form>}, as
// package sensor/webhook builds it for both engines.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	url := strings.Trim(r.PathValue("url"), "/")
	verifier := s.catalog.Verifier(url)
	if verifier == nil {
		// Without a signature scheme, the webhook needs the API key (and
		// says nothing about which webhooks exist to those without one).
		var ok bool
		if r, ok = s.authenticate(w, r); !ok {
			return
		}
	}
	if !s.catalog.HasWebhook(url) {
		writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no enabled rule listens on webhook %q (a rule on %s with trigger parameter url: %s)", url, WebhookTrigger, url), nil)
		return
	}
	raw, err := webhook.ReadBody(r.Body, s.opts.MaxBodyBytes)
	if errors.Is(err, webhook.ErrBodyTooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, CodeBadRequest, err.Error(), nil)
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error(), nil)
		return
	}
	if verifier != nil {
		if err := verifier.Verify(r.Context(), r.Header, raw); err != nil {
			switch {
			case errors.Is(err, webhook.ErrReplayed):
				writeError(w, http.StatusConflict, CodeConflict, err.Error(), nil)
			case errors.Is(err, webhook.ErrMissingHeader), errors.Is(err, webhook.ErrMalformedHeader),
				errors.Is(err, webhook.ErrSignatureMismatch), errors.Is(err, webhook.ErrTimestampOutOfTolerance):
				writeError(w, http.StatusUnauthorized, CodeUnauthorized, "webhook signature: "+err.Error(), nil)
			default:
				s.internal(w, "verifying the webhook signature", err)
			}
			return
		}
	}
	// The API key is a credential: it never goes into the audit trail.
	h := r.Header.Clone()
	h.Del(HeaderAPIKey)
	h.Del(HeaderSt2APIKey)
	payload, err := webhook.CorePayload(h, raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("the webhook body cannot be read: %v", err), []Problem{{Pointer: "/body", Message: err.Error()}})
		return
	}
	if !s.validPayload(w, WebhookTrigger, payload, "") {
		return
	}
	s.publish(w, r, bus.Entry{
		ID:                WebhookEventID(url, eventID(r)),
		Trigger:           WebhookTrigger,
		TriggerParameters: map[string]any{"url": url},
		Payload:           payload,
	})
}

// genericWebhook is POST /api/v1/webhooks/st2: {"trigger", "payload"} for
// any trigger type the packs declare.
func (s *Server) genericWebhook(w http.ResponseWriter, r *http.Request) {
	var req TriggerRequest
	if !s.readJSON(w, r, &req) {
		return
	}
	if req.Trigger == "" {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "the trigger type is missing", []Problem{{Pointer: "/trigger", Message: "required: a trigger type reference such as examples.disk_alert"}})
		return
	}
	if s.catalog.TriggerType(req.Trigger) == nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("unknown trigger type %q", req.Trigger), []Problem{{Pointer: "/trigger", Message: "no loaded pack declares this trigger type"}})
		return
	}
	if req.Payload == nil {
		req.Payload = map[string]any{}
	}
	if !s.validPayload(w, req.Trigger, req.Payload, "/payload") {
		return
	}
	s.publish(w, r, bus.Entry{ID: eventID(r), Trigger: req.Trigger, Payload: req.Payload, TraceTag: req.TraceTag})
}

// validPayload checks a payload against its trigger type's payload_schema;
// on problems it answers 400 listing them (pointers prefixed by prefix) and
// reports false.
func (s *Server) validPayload(w http.ResponseWriter, trigger string, p map[string]any, prefix string) bool {
	e := s.payloadSchema(trigger)
	if e.err != nil {
		writeError(w, http.StatusInternalServerError, CodeInternal, fmt.Sprintf("the payload_schema of %s does not compile: %v", trigger, e.err), nil)
		return false
	}
	problems := e.sch.Validate(p)
	if len(problems) == 0 {
		return true
	}
	ps := make([]Problem, len(problems))
	for i, p := range problems {
		ps[i] = Problem{Pointer: prefix + p.Pointer, Message: p.Message}
	}
	writeError(w, http.StatusBadRequest, CodeInvalidPayload, fmt.Sprintf("the payload does not match the payload_schema of %s; nothing was recorded", trigger), ps)
	return false
}

func (s *Server) payloadSchema(trigger string) *schemaEntry {
	s.schemasMu.Lock()
	defer s.schemasMu.Unlock()
	if e, ok := s.schemas[trigger]; ok {
		return e
	}
	e := &schemaEntry{}
	var doc any
	if tt := s.catalog.TriggerType(trigger); tt != nil && len(tt.PayloadSchema) > 0 {
		doc = tt.PayloadSchema
	}
	e.sch, e.err = payload.Compile(doc)
	s.schemas[trigger] = e
	return e
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request, e bus.Entry) {
	out, err := s.pub.PutEvents(r.Context(), []bus.Entry{e})
	if err != nil {
		s.internal(w, "putting the event on the bus", err)
		return
	}
	res := out.Entries[0]
	if res.ErrorCode != "" {
		code, status := CodeInternal, http.StatusInternalServerError
		if res.ErrorCode == bus.ErrCodeInvalid {
			code, status = CodeBadRequest, http.StatusBadRequest
		}
		writeError(w, status, code, res.ErrorMessage, nil)
		return
	}
	writeJSON(w, http.StatusAccepted, Accepted{EventID: res.EventID, TriggerInstanceID: res.TriggerInstanceID, Trigger: e.Trigger, Duplicate: res.Duplicate})
}

// WebhookEventID is the bus event id of a delivery to webhook url: the
// sender's delivery id (a new random one when it gave none) scoped by the
// url, so that the same delivery id at two webhooks is two events, and so
// that the url, which selects the rules, can be read back from the trigger
// instance's source event id (see WebhookURLOf).
func WebhookEventID(url, delivery string) string {
	if delivery == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		delivery = hex.EncodeToString(b[:])
	}
	return "webhook:" + url + "#" + delivery
}

// WebhookURLOf returns the webhook url of a bus event id made by
// WebhookEventID.
func WebhookURLOf(eventID string) (string, bool) {
	rest, ok := strings.CutPrefix(eventID, "webhook:")
	if !ok {
		return "", false
	}
	url, _, ok := strings.Cut(rest, "#")
	return url, ok
}

// eventID is the id of the event a webhook delivers, from the first header
// that names one; empty for a new event.
func eventID(r *http.Request) string {
	for _, h := range []string{HeaderEventID, "Webhook-Id", "X-GitHub-Delivery"} {
		if v := strings.TrimSpace(r.Header.Get(h)); v != "" {
			return v
		}
	}
	return ""
}
