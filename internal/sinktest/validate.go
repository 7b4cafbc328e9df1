package sinktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"unicode/utf8"
)

// PagerDuty's documented limits.
const (
	maxSummary  = 1024
	maxDedupKey = 255
)

var (
	pdActions    = []string{"trigger", "acknowledge", "resolve"}
	pdSeverities = []string{"critical", "error", "warning", "info"}
)

// checkEvent applies the Events API v2 rules runmedic relies on.
func checkEvent(e Event, change bool) error {
	switch {
	case e.RoutingKey == "":
		return fmt.Errorf("routing_key is missing")
	case change:
		if e.Payload == nil || e.Payload.Summary == "" {
			return fmt.Errorf("payload.summary is missing")
		}
		if utf8.RuneCountInString(e.Payload.Summary) > maxSummary {
			return fmt.Errorf("payload.summary is longer than %d characters", maxSummary)
		}
		return nil
	case !slices.Contains(pdActions, e.Action):
		return fmt.Errorf("event_action %q is not one of trigger, acknowledge, resolve", e.Action)
	case len(e.DedupKey) > maxDedupKey:
		return fmt.Errorf("dedup_key is longer than %d characters", maxDedupKey)
	case e.Action != "trigger" && e.DedupKey == "":
		return fmt.Errorf("dedup_key is required for %s", e.Action)
	case e.Action != "trigger":
		return nil
	case e.Payload == nil:
		return fmt.Errorf("payload is missing")
	case e.Payload.Summary == "" || e.Payload.Source == "" || e.Payload.Severity == "":
		return fmt.Errorf("payload.summary, payload.source and payload.severity are required")
	case utf8.RuneCountInString(e.Payload.Summary) > maxSummary:
		return fmt.Errorf("payload.summary is longer than %d characters", maxSummary)
	case !slices.Contains(pdSeverities, e.Payload.Severity):
		return fmt.Errorf("payload.severity %q is not one of critical, error, warning, info", e.Payload.Severity)
	}
	for _, l := range e.Links {
		if l.Href == "" {
			return fmt.Errorf("links: href is required")
		}
	}
	return nil
}

func (r *Recorder) servePagerDuty(w http.ResponseWriter, change bool, body []byte) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		writeError(w, PagerDuty, http.StatusBadRequest, "body is not an event: "+err.Error())
		return
	}
	if err := checkEvent(e, change); err != nil {
		writeError(w, PagerDuty, http.StatusBadRequest, err.Error())
		return
	}
	e.Raw = json.RawMessage(body)
	r.mu.Lock()
	if change {
		r.changes = append(r.changes, e)
	} else {
		r.events = append(r.events, e)
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	resp := map[string]string{"status": "success", "message": "Event processed"}
	if !change {
		resp["dedup_key"] = e.DedupKey
	}
	json.NewEncoder(w).Encode(resp) //nolint:errcheck
}

// Slack's documented limits on Block Kit.
const (
	maxBlocks      = 50
	maxSectionText = 3000
	maxHeaderText  = 150
	maxButtons     = 25
)

type block struct {
	Type string `json:"type"`
	Text *struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"text"`
	Elements []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
		Text *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
	} `json:"elements"`
}

func checkBlocks(blocks []block) error {
	if len(blocks) > maxBlocks {
		return fmt.Errorf("more than %d blocks", maxBlocks)
	}
	for i, b := range blocks {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || utf8.RuneCountInString(b.Text.Text) > maxHeaderText || b.Text.Text == "" {
				return fmt.Errorf("blocks[%d]: a header needs plain_text of 1-%d characters", i, maxHeaderText)
			}
		case "section":
			if b.Text == nil || b.Text.Text == "" || utf8.RuneCountInString(b.Text.Text) > maxSectionText {
				return fmt.Errorf("blocks[%d]: a section needs text of 1-%d characters", i, maxSectionText)
			}
		case "actions":
			if len(b.Elements) == 0 || len(b.Elements) > maxButtons {
				return fmt.Errorf("blocks[%d]: actions need 1-%d elements", i, maxButtons)
			}
			for j, el := range b.Elements {
				if el.Type != "button" || el.Text == nil || el.Text.Text == "" {
					return fmt.Errorf("blocks[%d].elements[%d]: a button needs text", i, j)
				}
			}
		case "context", "divider":
		default:
			return fmt.Errorf("blocks[%d]: unknown block type %q", i, b.Type)
		}
	}
	return nil
}

func (r *Recorder) serveSlack(w http.ResponseWriter, path string, body []byte) {
	var m struct {
		Text   string  `json:"text"`
		Blocks []block `json:"blocks"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		writeError(w, Slack, http.StatusBadRequest, "invalid_payload")
		return
	}
	if m.Text == "" && len(m.Blocks) == 0 {
		writeError(w, Slack, http.StatusBadRequest, "no_text")
		return
	}
	if err := checkBlocks(m.Blocks); err != nil {
		writeError(w, Slack, http.StatusBadRequest, err.Error())
		return
	}
	r.mu.Lock()
	r.slack = append(r.slack, Message{Path: path, Text: m.Text, Raw: json.RawMessage(body)})
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "ok")
}

func (r *Recorder) serveChat(w http.ResponseWriter, req *http.Request, body []byte) {
	q := req.URL.Query()
	if q.Get("key") == "" || q.Get("token") == "" {
		writeError(w, Chat, http.StatusUnauthorized, "missing key or token")
		return
	}
	if o := q.Get("messageReplyOption"); o != "" && o != "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" && o != "REPLY_MESSAGE_OR_FAIL" {
		writeError(w, Chat, http.StatusBadRequest, "invalid messageReplyOption")
		return
	}
	var m struct {
		Text    string `json:"text"`
		CardsV2 []struct {
			CardID string `json:"cardId"`
			Card   struct {
				Header struct {
					Title string `json:"title"`
				} `json:"header"`
				Sections []struct {
					Widgets []json.RawMessage `json:"widgets"`
				} `json:"sections"`
			} `json:"card"`
		} `json:"cardsV2"`
		Thread struct {
			ThreadKey string `json:"threadKey"`
		} `json:"thread"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		writeError(w, Chat, http.StatusBadRequest, "Invalid JSON payload")
		return
	}
	if m.Text == "" && len(m.CardsV2) == 0 {
		writeError(w, Chat, http.StatusBadRequest, "Message cannot be empty")
		return
	}
	for i, c := range m.CardsV2 {
		if c.CardID == "" || len(c.Card.Sections) == 0 || c.Card.Header.Title == "" {
			writeError(w, Chat, http.StatusBadRequest, fmt.Sprintf("cardsV2[%d]: needs cardId, a header title and sections", i))
			return
		}
		for j, s := range c.Card.Sections {
			if len(s.Widgets) == 0 {
				writeError(w, Chat, http.StatusBadRequest, fmt.Sprintf("cardsV2[%d].sections[%d]: no widgets", i, j))
				return
			}
		}
	}
	if q.Get("messageReplyOption") != "" && m.Thread.ThreadKey == "" {
		writeError(w, Chat, http.StatusBadRequest, "a reply option needs thread.threadKey")
		return
	}
	r.mu.Lock()
	r.chat = append(r.chat, Message{Path: req.URL.Path, Text: m.Text, ThreadKey: m.Thread.ThreadKey, Raw: json.RawMessage(body)})
	n := len(r.chat)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck
		"name":   fmt.Sprintf("spaces/AAA/messages/m%d", n),
		"thread": map[string]string{"name": "spaces/AAA/threads/" + m.Thread.ThreadKey},
	})
}
