package message

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// SlackText is a Slack message as a terminal shows it: the header, each section, and the link
// buttons on one line. It reads what a Slack webhook received, so the sandbox prints exactly
// what was sent.
func SlackText(m slack.WebhookMessage) string {
	var b strings.Builder
	if m.Blocks == nil || len(m.Blocks.BlockSet) == 0 {
		return m.Text + "\n"
	}
	for _, bl := range m.Blocks.BlockSet {
		switch v := bl.(type) {
		case *slack.HeaderBlock:
			b.WriteString(v.Text.Text + "\n")
		case *slack.SectionBlock:
			if v.Text != nil {
				b.WriteString(strings.ReplaceAll(v.Text.Text, "```", "") + "\n")
			}
		case *slack.ActionBlock:
			var names []string
			for _, el := range v.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok {
					names = append(names, fmt.Sprintf("%s <%s>", btn.Text.Text, btn.URL))
				}
			}
			b.WriteString("[links] " + strings.Join(names, " · ") + "\n")
		}
	}
	return b.String()
}

// SlackTextJSON is SlackText of a webhook body.
func SlackTextJSON(raw []byte) (string, error) {
	var m slack.WebhookMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", fmt.Errorf("slack message: %w", err)
	}
	return SlackText(m), nil
}

// ChatCardText is a Chat card as a terminal shows it: title, then each section's header and text
// (Chat's <br> as line breaks, its HTML unescaped).
func ChatCardText(m ChatMessage) string {
	var b strings.Builder
	unescape := strings.NewReplacer("<br>", "\n", "&lt;", "<", "&gt;", ">", "&amp;", "&", `<font face="monospace">`, "", "</font>", "")
	for _, c := range m.CardsV2 {
		b.WriteString(c.Card.Header.Title + "\n")
		for _, s := range c.Card.Sections {
			if s.Header != "" {
				b.WriteString("*" + s.Header + "*\n")
			}
			for _, w := range s.Widgets {
				if w.TextParagraph != nil {
					b.WriteString(unescape.Replace(w.TextParagraph.Text) + "\n")
				}
				if w.ButtonList != nil {
					var names []string
					for _, btn := range w.ButtonList.Buttons {
						names = append(names, btn.Text)
					}
					b.WriteString("[buttons] " + strings.Join(names, " · ") + "\n")
				}
			}
		}
	}
	fmt.Fprintf(&b, "(thread %s)\n", m.Thread.ThreadKey)
	return b.String()
}
