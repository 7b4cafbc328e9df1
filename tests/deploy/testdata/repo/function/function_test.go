package function_test

import "testing"

// A test in another package: at the upload root it would give the buildpack two package names.
func TestNothing(t *testing.T) {}
