package plan

import (
	"fmt"
	"strings"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Links are the pages a person opens next, in the order they are needed: the incident, the
// service, and Logs Explorer filtered to the service's out-of-memory kills.
type Links struct {
	Incident string `json:"incident,omitempty"`
	Service  string `json:"service"`
	Logs     string `json:"logs"`
}

// OOMLogQuery is the Cloud Logging filter for a service's out-of-memory kills: Cloud Run logs
// "Memory limit of … exceeded with … used" on the revision when it kills an instance.
func OOMLogQuery(service string) string {
	return fmt.Sprintf("resource.type=\"cloud_run_revision\"\nresource.labels.service_name=%q\ntextPayload:\"Memory limit of\"", service)
}

// LinksFor is the console links for s's incident and service. The incident link is the one
// Monitoring sent; without one it is built from the incident id.
func LinksFor(s snapshot.Snapshot) Links {
	t := s.Target
	project := escape(t.Project)
	l := Links{
		Incident: s.Incident.URL,
		Service: fmt.Sprintf("https://console.cloud.google.com/run/detail/%s/%s/metrics?project=%s",
			escape(t.Location), escape(t.Service), project),
		Logs: fmt.Sprintf("https://console.cloud.google.com/logs/query;query=%s?project=%s",
			escape(OOMLogQuery(t.Service)), project),
	}
	if l.Incident == "" && s.Incident.ID != "" {
		l.Incident = fmt.Sprintf("https://console.cloud.google.com/monitoring/alerting/alerts/%s?project=%s", escape(s.Incident.ID), project)
	}
	return l
}

// escape percent-encodes every byte of s but RFC 3986's unreserved characters, so a value is safe
// in a path segment, a query value, and Logs Explorer's ;query= parameter alike. (The plan stays
// free of net/ packages: it is pure core.)
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
