package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// wantRuntime is the runtime ID deploy.sh derives from go.mod's go directive (go 1.26.x -> go126).
func wantRuntime(t *testing.T, repo string) string {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return "go" + string(m[1]) + string(m[2])
}

// checkGcloudCommands asserts the remote commands of a gcloud dry run.
func checkGcloudCommands(t *testing.T, repo, stage, stdout string) {
	t.Helper()
	cmds := commands(t, stdout)
	for _, topic := range []string{"runmedic-alerts", "runmedic-audit", "runmedic-notify", "runmedic-dead-letter"} {
		if _, ok := find(cmds, "gcloud", "pubsub", "topics", "create", topic); !ok {
			t.Errorf("dry run does not print the creation of topic %s:\n%s", topic, stdout)
		}
	}
	deploy, ok := find(cmds, "gcloud", "functions", "deploy", "runmedic")
	if !ok {
		t.Fatalf("dry run does not print gcloud functions deploy:\n%s", stdout)
	}
	got := flags(deploy)
	want := map[string]string{
		"--gen2":             "",
		"--retry":            "",
		"--project":          "p",
		"--region":           "europe-west1",
		"--runtime":          wantRuntime(t, repo),
		"--source":           stage,
		"--entry-point":      "Remediate",
		"--trigger-topic":    "runmedic-alerts",
		"--max-instances":    "1",
		"--timeout":          "540s",
		"--ingress-settings": "internal-only",
		"--service-account":  "runmedic@p.iam.gserviceaccount.com",
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("gcloud functions deploy %s = %q (present %v), want %q", k, g, ok, v)
		}
	}
	env := map[string]string{}
	for _, kv := range strings.Split(got["--set-env-vars"], ",") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range map[string]string{
		"RUNMEDIC_AUDIT_TOPIC":  "projects/p/topics/runmedic-audit",
		"RUNMEDIC_NOTIFY_TOPIC": "projects/p/topics/runmedic-notify",
		"GOOGLE_CLOUD_PROJECT":  "p",
	} {
		if env[k] != v {
			t.Errorf("--set-env-vars %s = %q, want %q", k, env[k], v)
		}
	}
	update, ok := find(cmds, "gcloud", "pubsub", "subscriptions", "update")
	if !ok {
		t.Fatalf("dry run does not print the dead-letter update of the trigger subscription:\n%s", stdout)
	}
	if f := flags(update); f["--dead-letter-topic"] != "projects/p/topics/runmedic-dead-letter" || f["--max-delivery-attempts"] == "" {
		t.Errorf("dead-letter update = %q, want --dead-letter-topic=projects/p/topics/runmedic-dead-letter and --max-delivery-attempts", update)
	}
}

func noRemoteCalls(t *testing.T, log string) {
	t.Helper()
	if b, err := os.ReadFile(log); err == nil {
		t.Errorf("dry run called a remote tool:\n%s", b)
	}
}

// TestDryRunRealFunction stages the repository's own function/ and checks the upload the way
// the buildpack will treat it.
func TestDryRunRealFunction(t *testing.T) {
	repo := repoRoot(t)
	mustHave(t, "go")
	env, log := tripwires(t, cleanEnv(t))
	stage := t.TempDir()

	r := runDeploy(t, repo, env, "--dry-run", "--project=p", "--region=europe-west1", "--stage-dir="+stage)
	if r.code != 0 {
		t.Fatalf("deploy.sh --dry-run exit %d\nstderr: %s", r.code, r.stderr)
	}
	noRemoteCalls(t, log)
	checkUpload(t, stage)
	checkBuildpackApp(t, stage, env)
	checkGcloudCommands(t, repo, stage, r.stdout)
}

// TestDryRunFixture runs both deploy modes on the stand-in function.
func TestDryRunFixture(t *testing.T) {
	mustHave(t, "go")
	repo := fixtureRepo(t)
	env, log := tripwires(t, cleanEnv(t))

	t.Run("gcloud", func(t *testing.T) {
		stage := t.TempDir()
		r := runDeploy(t, repo, env, "--dry-run", "--with=gcloud", "--project", "p", "--region", "europe-west1", "--stage-dir", stage)
		if r.code != 0 {
			t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
		}
		checkUpload(t, stage)
		checkBuildpackApp(t, stage, env)
		checkGcloudCommands(t, repo, stage, r.stdout)
		if _, err := os.Stat(filepath.Join(stage, "internal", "probe", "probe.go")); err != nil {
			t.Errorf("internal package not staged: %v", err)
		}
		if _, err := os.Stat(filepath.Join(stage, "policies", "data", "config.yaml")); err != nil {
			t.Errorf("embedded config not staged: %v", err)
		}
	})

	t.Run("terraform", func(t *testing.T) {
		stage := t.TempDir()
		r := runDeploy(t, repo, env, "--dry-run", "--with=terraform", "--project=p", "--stage-dir="+stage, "--auto-approve")
		if r.code != 0 {
			t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
		}
		checkUpload(t, stage)
		cmds := commands(t, r.stdout)
		infra := filepath.Join(repo, "infra")
		if _, ok := find(cmds, "terraform", "-chdir="+infra, "init"); !ok {
			t.Errorf("dry run does not print terraform init in %s:\n%s", infra, r.stdout)
		}
		apply, ok := find(cmds, "terraform", "-chdir="+infra, "apply")
		if !ok {
			t.Fatalf("dry run does not print terraform apply:\n%s", r.stdout)
		}
		for _, w := range []string{"-var=source_dir=" + stage, "-var=project_id=p", "-auto-approve", "-input=false"} {
			if !contains(apply, w) {
				t.Errorf("terraform apply = %q, want %q in it", apply, w)
			}
		}
		if contains(apply, "-var=region=") {
			t.Errorf("terraform apply = %q passes a region that was not given", apply)
		}
		const missing = "deploy.sh: warning: infra/terraform.tfvars is missing"
		if !strings.Contains(r.stderr, missing) {
			t.Errorf("dry run without infra/terraform.tfvars: stderr lacks %q:\n%s", missing, r.stderr)
		}
		tfvars := filepath.Join(infra, "terraform.tfvars")
		if err := os.MkdirAll(infra, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(tfvars, []byte("project_id = \"p\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(tfvars)
		r = runDeploy(t, repo, env, "--dry-run", "--with=terraform", "--project=p", "--stage-dir="+t.TempDir(), "--auto-approve")
		if r.code != 0 || strings.Contains(r.stderr, missing) {
			t.Errorf("dry run with infra/terraform.tfvars = exit %d, stderr %q; want 0 and no warning", r.code, r.stderr)
		}
	})
	noRemoteCalls(t, log)
}

func contains(words []string, prefix string) bool {
	for _, w := range words {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}

// TestDryRunTwice: a second run starts from a clean upload and prints the same commands.
func TestDryRunTwice(t *testing.T) {
	mustHave(t, "go")
	repo := fixtureRepo(t)
	env, _ := tripwires(t, cleanEnv(t))
	stage := t.TempDir()
	args := []string{"--dry-run", "--project=p", "--region=europe-west1", "--stage-dir=" + stage}

	first := runDeploy(t, repo, env, args...)
	if first.code != 0 {
		t.Fatalf("first run exit %d: %s", first.code, first.stderr)
	}
	stale := filepath.Join(stage, "stale.go")
	if err := os.WriteFile(stale, []byte("package other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := runDeploy(t, repo, env, args...)
	if second.code != 0 {
		t.Fatalf("second run exit %d: %s", second.code, second.stderr)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("second run kept %s from before", stale)
	}
	if first.stdout != second.stdout {
		t.Errorf("second run printed\n%s\nwant the same as the first\n%s", second.stdout, first.stdout)
	}
	checkUpload(t, stage)
}

// TestRefusals: every refusal is one line on stderr, a non-zero exit, and leaves the repository
// untouched.
func TestRefusals(t *testing.T) {
	mustHave(t, "go")
	env, _ := tripwires(t, cleanEnv(t))
	edit := func(old, new string) func(t *testing.T, repo string) {
		return func(t *testing.T, repo string) {
			p := filepath.Join(repo, "function", "function.go")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), old) {
				t.Fatalf("%s has no %q to replace", p, old)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, repo string)
		args    func(repo, stage string) []string
		want    string
	}{
		{
			name:    "package main at the root",
			prepare: edit("package function", "package main"),
			want:    "must not be package main",
		},
		{
			name:    "entry point not registered",
			prepare: edit(`functions.HTTP("Remediate"`, `functions.HTTP("Other"`),
			want:    `does not register functions.HTTP("Remediate"`,
		},
		{
			name:    "does not compile",
			prepare: edit("_ = probe.Name", "_ = probe.Missing"),
			want:    "does not build or vet",
		},
		{
			name: "fails vet",
			prepare: func(t *testing.T, repo string) {
				edit("_ = probe.Name", `_ = fmt.Sprintf("%d", probe.Name)`)(t, repo)
				edit("import (", "import (\n\t\"fmt\"\n")(t, repo)
			},
			want: "does not build or vet",
		},
		{
			name: "no function package",
			prepare: func(t *testing.T, repo string) {
				if err := os.RemoveAll(filepath.Join(repo, "function")); err != nil {
					t.Fatal(err)
				}
			},
			want: "nothing to deploy",
		},
		{
			name: "stage dir holds other files",
			args: func(repo, _ string) []string {
				dir := filepath.Join(repo, "internal")
				return []string{"--dry-run", "--project=p", "--region=r", "--stage-dir=" + dir}
			},
			want: "refusing to clear",
		},
		{
			name: "stage dir is the repository",
			args: func(repo, _ string) []string {
				return []string{"--dry-run", "--project=p", "--region=r", "--stage-dir=" + repo}
			},
			want: "it would clear the repository",
		},
		{
			name: "unknown flag",
			args: func(_, _ string) []string { return []string{"--dry-run", "--frobnicate"} },
			want: "unknown argument --frobnicate",
		},
		{
			name: "unknown mode",
			args: func(_, stage string) []string { return []string{"--with=pulumi", "--stage-dir=" + stage} },
			want: "--with must be gcloud or terraform",
		},
		{
			name: "gcloud without a project",
			args: func(_, stage string) []string { return []string{"--dry-run", "--region=r", "--stage-dir=" + stage} },
			want: "--project is required",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := fixtureRepo(t)
			if tc.prepare != nil {
				tc.prepare(t, repo)
			}
			stage := t.TempDir()
			args := []string{"--dry-run", "--project=p", "--region=europe-west1", "--stage-dir=" + stage}
			if tc.args != nil {
				args = tc.args(repo, stage)
			}
			r := runDeploy(t, repo, env, args...)
			if r.code == 0 {
				t.Fatalf("deploy.sh %q exit 0, want an error containing %q\nstdout: %s", args, tc.want, r.stdout)
			}
			checkOneLineError(t, r.stderr, tc.want)
			for _, f := range []string{"go.mod", "deploy.sh", "internal/probe/probe.go"} {
				if _, err := os.Stat(filepath.Join(repo, f)); err != nil {
					t.Errorf("repository file %s gone after a refusal: %v", f, err)
				}
			}
		})
	}
}

func checkOneLineError(t *testing.T, stderr, want string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		// go build and go vet explain themselves on the lines before deploy.sh's verdict.
		if strings.HasPrefix(l, "deploy.sh: ") && !strings.HasPrefix(l, "deploy.sh: note: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Errorf("stderr deploy.sh lines = %q, want one line containing %q\nfull stderr: %s", lines, want, stderr)
	}
}

// pathWithout is a PATH that offers every tool of the current PATH except the named ones.
func pathWithout(t *testing.T, missing ...string) string {
	t.Helper()
	bin := t.TempDir()
	skip := map[string]bool{}
	for _, m := range missing {
		skip[m] = true
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			link := filepath.Join(bin, e.Name())
			if skip[e.Name()] || e.IsDir() {
				continue
			}
			if _, err := os.Lstat(link); err == nil {
				continue // an earlier PATH entry wins, as in the shell
			}
			if err := os.Symlink(filepath.Join(dir, e.Name()), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	return bin
}

// TestRealRunPrerequisites: without a tool or credentials a real run stops before any work,
// with one line that says what to do.
func TestRealRunPrerequisites(t *testing.T) {
	mustHave(t, "go")
	mustHave(t, "gcloud")
	mustHave(t, "terraform")
	repo := fixtureRepo(t)
	base := cleanEnv(t)
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"gcloud missing", withPath(base, pathWithout(t, "gcloud")), []string{"--project=p", "--region=r"}, "gcloud not found on PATH"},
		{"terraform missing", withPath(base, pathWithout(t, "terraform")), []string{"--with=terraform"}, "terraform not found on PATH"},
		{"no gcloud credentials", base, []string{"--project=p", "--region=r"}, "no active gcloud credentials"},
		{"no application default credentials", base, []string{"--with=terraform"}, "no Application Default Credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stage := t.TempDir()
			r := runDeploy(t, repo, tc.env, append(tc.args, "--stage-dir="+stage)...)
			if r.code == 0 {
				t.Fatalf("exit 0, want an error containing %q", tc.want)
			}
			checkOneLineError(t, r.stderr, tc.want)
			if entries, _ := os.ReadDir(stage); len(entries) != 0 {
				t.Errorf("stage dir has %d entries: the run did work before checking prerequisites", len(entries))
			}
		})
	}
}

func TestHelp(t *testing.T) {
	repo := repoRoot(t)
	r := runDeploy(t, repo, cleanEnv(t), "--help")
	if r.code != 0 {
		t.Fatalf("--help exit %d: %s", r.code, r.stderr)
	}
	for _, w := range []string{"Usage: deploy.sh", "--dry-run", "--with gcloud|terraform", "--project", "--region", "--runtime", "--stage-dir"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("--help does not mention %q:\n%s", w, r.stdout)
		}
	}
}
