package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/runmedic/runmedic/internal/message"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/sinktest"
)

// printPreviews shows the messages a decision would send: each PagerDuty event as JSON, each
// Slack message and Chat card as a terminal shows them.
func printPreviews(w io.Writer, ps []remediate.Preview) error {
	fmt.Fprintln(w, "\n== Messages")
	if len(ps) == 0 {
		fmt.Fprintln(w, "(none: nobody is told)")
		return nil
	}
	for _, p := range ps {
		fmt.Fprintf(w, "\n-- %s to %s\n", p.Step, p.To)
		var ev any = message.PagerDuty(p.Input)
		if p.Input.Kind == message.Changed {
			ev = message.Change(p.Input)
		}
		js, err := indentJSON(ev)
		if err != nil {
			return fmt.Errorf("encode pagerduty event: %w", err)
		}
		fmt.Fprintf(w, "PagerDuty (routing key added when sent):\n%s", js)
		if p.Input.Kind == message.Changed {
			continue
		}
		fmt.Fprintf(w, "Slack:\n%s", message.SlackText(message.Slack(p.Input)))
		fmt.Fprintf(w, "Google Chat:\n%s", message.ChatCardText(message.Chat(p.Input)))
	}
	return nil
}

// printReceived shows what the sandbox's recorders received, in the order each sink got it.
func printReceived(w io.Writer, rec *sinktest.Recorder) error {
	fmt.Fprintln(w, "\n== Messages received (PagerDuty, Slack and Chat recorders)")
	events, changes, slacks, chats := rec.Events(), rec.Changes(), rec.Slack(), rec.Chat()
	if len(events)+len(changes)+len(slacks)+len(chats) == 0 {
		fmt.Fprintln(w, "(none)")
	}
	// Recipients paged through the same routing key receive the same bytes: show them once.
	all, times := append(events, changes...), map[string]int{}
	for _, e := range all {
		times[string(e.Raw)]++
	}
	for _, e := range all {
		n := times[string(e.Raw)]
		if n == 0 {
			continue // shown already
		}
		times[string(e.Raw)] = 0
		if e.Action == "" {
			e.Action = "change event"
		}
		var pretty any
		if err := json.Unmarshal(e.Raw, &pretty); err != nil {
			return fmt.Errorf("pagerduty event: %w", err)
		}
		js, err := indentJSON(pretty)
		if err != nil {
			return fmt.Errorf("pagerduty event: %w", err)
		}
		fmt.Fprintf(w, "\n-- PagerDuty %s\n", e.Action)
		if n > 1 {
			fmt.Fprintf(w, "(received %d times, the same event for each recipient it pages)\n", n)
		}
		fmt.Fprintf(w, "%s", js)
	}
	for _, m := range slacks {
		text, err := message.SlackTextJSON(m.Raw)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n-- Slack %s\n%s", m.Path, text)
	}
	for _, m := range chats {
		var c message.ChatMessage
		if err := json.Unmarshal(m.Raw, &c); err != nil {
			return fmt.Errorf("chat message: %w", err)
		}
		fmt.Fprintf(w, "\n-- Google Chat %s\n%s", m.Path, message.ChatCardText(c))
	}
	return nil
}

// indentJSON is v as indented JSON with URLs left readable (no \u0026 for &).
func indentJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(v)
	return b.Bytes(), err
}
