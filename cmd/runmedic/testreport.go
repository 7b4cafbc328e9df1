package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/runmedic/runmedic/internal/policy"
)

// testResults is one `runmedic test` run, as -o json prints it and -o junit is made from.
type testResults struct {
	Policies        string           `json:"policies"`
	Scenarios       string           `json:"scenarios"`
	Checks          []policy.Finding `json:"checks"`   // strict compile, opa fmt, input schema
	Rego            policy.Report    `json:"rego"`     // Rego tests and coverage
	Problems        []string         `json:"problems"` // coverage below the threshold, missing test files
	ScenarioResults []scenarioResult `json:"scenario_results"`
	Passed          bool             `json:"passed"`
}

// scenarioResult is one scenario checked against (or written to) its goldens.
type scenarioResult struct {
	Name    string         `json:"name"`
	Outcome policy.Outcome `json:"outcome"` // pass, fail (goldens differ or are missing), error
	Message string         `json:"message,omitempty"`
	Wrote   []string       `json:"wrote,omitempty"` // with -update: the goldens rewritten
}

func (r testResults) passed() bool {
	if len(r.Checks) > 0 || len(r.Problems) > 0 || !r.Rego.Passed() {
		return false
	}
	for _, s := range r.ScenarioResults {
		if s.Outcome != policy.Pass {
			return false
		}
	}
	return true
}

func writeTestJSON(w io.Writer, r testResults) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode test results: %w", err)
	}
	return nil
}

// JUnit XML, the subset CI systems read: suites of test cases, each passing, failed or errored.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr,omitempty"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func (s *junitSuite) add(c junitCase) {
	s.Tests++
	switch {
	case c.Failure != nil:
		s.Failures++
	case c.Error != nil:
		s.Errors++
	case c.Skipped != nil:
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

// writeJUnit writes r as three suites: the policy checks (one case per finding, or one passing
// case), the Rego tests (with coverage problems as failures), and the scenarios.
func writeJUnit(w io.Writer, r testResults) error {
	checks := junitSuite{Name: "runmedic.checks"}
	if len(r.Checks) == 0 {
		checks.add(junitCase{Name: "strict, fmt, schema", Classname: "runmedic.checks"})
	}
	for _, f := range r.Checks {
		checks.add(junitCase{Name: f.Check + " " + f.File, Classname: "runmedic.checks." + f.Check,
			Failure: &junitMessage{Message: f.Message, Text: f.String()}})
	}
	rego := junitSuite{Name: "runmedic.rego"}
	for _, t := range r.Rego.Tests {
		c := junitCase{Name: t.Name, Classname: t.Package, Time: fmt.Sprintf("%.6f", t.Duration.Seconds())}
		msg := &junitMessage{Message: fmt.Sprintf("%s:%d", t.File, t.Line), Text: t.Message}
		switch t.Outcome {
		case policy.Fail:
			c.Failure = msg
		case policy.Error:
			c.Error = msg
		case policy.Skip:
			c.Skipped = msg
		}
		rego.add(c)
	}
	for _, p := range r.Problems {
		rego.add(junitCase{Name: p, Classname: "runmedic.coverage", Failure: &junitMessage{Message: p}})
	}
	scenarios := junitSuite{Name: "runmedic.scenarios"}
	for _, s := range r.ScenarioResults {
		c := junitCase{Name: s.Name, Classname: "runmedic.scenarios"}
		switch s.Outcome {
		case policy.Fail:
			c.Failure = &junitMessage{Message: "goldens differ", Text: s.Message}
		case policy.Error:
			c.Error = &junitMessage{Message: s.Message, Text: s.Message}
		}
		scenarios.add(c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{checks, rego, scenarios}}); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
