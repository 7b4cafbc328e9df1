package message

import (
	"fmt"
	"strings"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/slack-go/slack"
)

// PagerDuty is the Events API v2 event for in: a trigger for a page (or a frozen change), an
// acknowledge while a remedy verifies, a resolve once it held. The routing key is left for the
// sink to fill.
func PagerDuty(in Input) pagerduty.V2Event {
	c := build(in)
	n := in.Notification
	ev := pagerduty.V2Event{
		Action:    "trigger",
		DedupKey:  DedupKey(n.Target, n.Incident),
		Client:    "runmedic",
		ClientURL: n.ConsoleURL,
	}
	switch in.Kind {
	case Acknowledge:
		ev.Action = "acknowledge"
	case Resolve:
		ev.Action = "resolve"
	}
	for _, l := range c.links {
		ev.Links = append(ev.Links, map[string]string{"href": l.href, "text": l.text})
	}
	if ev.Action != "trigger" {
		return ev // PagerDuty reads only routing_key, event_action and dedup_key for these
	}
	details := map[string]any{
		"incident":  n.Incident,
		"step":      n.After,
		"recipient": n.To,
		"action":    string(n.Action),
		"diagnosis": string(n.Diagnosis),
		"did":       c.did,
		"next":      strings.Join(c.next, " "),
		"memory_3h": strings.Join(c.spark, "\n"),
	}
	if len(c.evidence) > 0 {
		details["evidence"] = c.evidence
	}
	if len(c.fix) > 0 {
		details["runbook_next_steps"] = c.fix
	}
	if c.undo != "" {
		details["undo"] = c.undo
	}
	if in.Revision != "" {
		details["revision"] = in.Revision
	}
	ev.Payload = &pagerduty.V2Payload{
		Summary:   truncate(c.title+": "+c.did, MaxSummary),
		Source:    n.Target,
		Severity:  pagerDutySeverity(n.Severity),
		Timestamp: in.Now.UTC().Format("2006-01-02T15:04:05Z"),
		Component: c.target.Service,
		Group:     c.target.Project,
		Class:     string(n.Diagnosis),
		Details:   details,
	}
	return ev
}

// Change is the PagerDuty change event for an applied change.
func Change(in Input) pagerduty.ChangeEvent {
	c := build(in)
	n := in.Notification
	ev := pagerduty.ChangeEvent{
		Payload: pagerduty.ChangeEventPayload{
			Summary:   truncate(fmt.Sprintf("runmedic %s on %s: %s", n.Action, c.target.Service, changeList(n)), MaxSummary),
			Source:    n.Target,
			Timestamp: in.Now.UTC().Format("2006-01-02T15:04:05Z"),
			CustomDetails: map[string]any{
				"incident":  n.Incident,
				"diagnosis": string(n.Diagnosis),
				"revision":  in.Revision,
				"undo":      c.undo,
			},
		},
	}
	for _, l := range c.links {
		ev.Links = append(ev.Links, pagerduty.ChangeEventLink{Href: l.href, Text: l.text})
	}
	return ev
}

// pagerDutySeverity maps Cloud Monitoring's severity to PagerDuty's four.
func pagerDutySeverity(s string) string {
	switch strings.ToLower(s) {
	case "critical":
		return "critical"
	case "error":
		return "error"
	case "warning":
		return "warning"
	}
	return "info"
}

// Slack limits runmedic stays within.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
)

// Slack is the incoming-webhook message: a header, then one section per part, link buttons.
func Slack(in Input) slack.WebhookMessage {
	c := build(in)
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, truncate(s, slackSectionMax), false, false)
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(c.title, slackHeaderMax), false, false)),
		slack.NewSectionBlock(md("*What happened*\n"+c.happened+bullets(c.evidence)), nil, nil),
		slack.NewSectionBlock(md("*What runmedic did*\n"+c.did), nil, nil),
		slack.NewSectionBlock(md("*What comes next*\n"+strings.Join(c.next, "\n")), nil, nil),
		slack.NewSectionBlock(md("*Memory, last 3h*\n```"+strings.Join(c.spark, "\n")+"```"), nil, nil),
	}
	if len(c.fix) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(md("*Fix the cause*"+bullets(c.fix)), nil, nil))
	}
	if c.undo != "" {
		blocks = append(blocks, slack.NewSectionBlock(md("*Undo*\n`"+c.undo+"`"), nil, nil))
	}
	var buttons []slack.BlockElement
	for i, l := range c.links {
		b := slack.NewButtonBlockElement(fmt.Sprintf("link-%d", i), "", slack.NewTextBlockObject(slack.PlainTextType, l.text, false, false))
		b.URL = l.href
		buttons = append(buttons, b)
	}
	blocks = append(blocks, slack.NewActionBlock("links", buttons...))
	return slack.WebhookMessage{Text: truncate(c.title, slackHeaderMax), Blocks: &slack.Blocks{BlockSet: blocks}}
}

// ChatReplyOption makes a webhook message reply in its thread, or start it.
const ChatReplyOption = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"

// ChatMessage is a Google Chat message with one cardsV2 card, threaded by incident.
type ChatMessage struct {
	Text    string     `json:"text"`
	CardsV2 []ChatCard `json:"cardsV2"`
	Thread  ChatThread `json:"thread"`
}

// ChatThread names the thread by key; the webhook creates it on the first message.
type ChatThread struct {
	ThreadKey string `json:"threadKey"`
}

// ChatCard is one cardsV2 entry.
type ChatCard struct {
	CardID string `json:"cardId"`
	Card   struct {
		Header   ChatHeader    `json:"header"`
		Sections []ChatSection `json:"sections"`
	} `json:"card"`
}

// ChatHeader is a card's title line.
type ChatHeader struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle,omitempty"`
}

// ChatSection is a titled list of widgets.
type ChatSection struct {
	Header  string       `json:"header,omitempty"`
	Widgets []ChatWidget `json:"widgets"`
}

// ChatWidget is a text paragraph or a list of link buttons.
type ChatWidget struct {
	TextParagraph *ChatText       `json:"textParagraph,omitempty"`
	ButtonList    *ChatButtonList `json:"buttonList,omitempty"`
}

// ChatText is a paragraph of Chat's HTML subset.
type ChatText struct {
	Text string `json:"text"`
}

// ChatButtonList holds link buttons.
type ChatButtonList struct {
	Buttons []ChatButton `json:"buttons"`
}

// ChatButton opens a link.
type ChatButton struct {
	Text    string `json:"text"`
	OnClick struct {
		OpenLink struct {
			URL string `json:"url"`
		} `json:"openLink"`
	} `json:"onClick"`
}

// Chat is the Google Chat card for in.
func Chat(in Input) ChatMessage {
	c := build(in)
	n := in.Notification
	text := func(header, body string) ChatSection {
		return ChatSection{Header: header, Widgets: []ChatWidget{{TextParagraph: &ChatText{Text: strings.ReplaceAll(body, "\n", "<br>")}}}}
	}
	var card ChatCard
	card.CardID = "runmedic-" + string(in.Kind) + "-" + n.After
	card.Card.Header = ChatHeader{Title: c.title, Subtitle: n.Target}
	card.Card.Sections = []ChatSection{
		text("What happened", chatEscape(c.happened)+chatBullets(c.evidence)),
		text("What runmedic did", chatEscape(c.did)),
		text("What comes next", chatEscape(strings.Join(c.next, "\n"))),
		text("Memory, last 3h", "<font face=\"monospace\">"+chatEscape(strings.Join(c.spark, "\n"))+"</font>"),
	}
	if len(c.fix) > 0 {
		card.Card.Sections = append(card.Card.Sections, text("Fix the cause", strings.TrimPrefix(chatBullets(c.fix), "\n")))
	}
	if c.undo != "" {
		card.Card.Sections = append(card.Card.Sections, text("Undo", "<font face=\"monospace\">"+chatEscape(c.undo)+"</font>"))
	}
	var bl ChatButtonList
	for _, l := range c.links {
		var b ChatButton
		b.Text = l.text
		b.OnClick.OpenLink.URL = l.href
		bl.Buttons = append(bl.Buttons, b)
	}
	card.Card.Sections = append(card.Card.Sections, ChatSection{Widgets: []ChatWidget{{ButtonList: &bl}}})
	return ChatMessage{Text: c.title, CardsV2: []ChatCard{card}, Thread: ChatThread{ThreadKey: ThreadKey(n.Target, n.Incident)}}
}

func bullets(items []string) string {
	var b strings.Builder
	for _, s := range items {
		b.WriteString("\n• " + s)
	}
	return b.String()
}

func chatBullets(items []string) string {
	var b strings.Builder
	for _, s := range items {
		b.WriteString("\n• " + chatEscape(s))
	}
	return b.String()
}

// chatEscape keeps text literal in Chat's HTML subset.
func chatEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
