// Package probe is an internal package the function imports.
package probe

// Name is read by the function so the import is used.
const Name = "probe"
