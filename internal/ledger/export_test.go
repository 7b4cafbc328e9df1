package ledger

// Queued is how many claims of s wait for their turn on fleet/limits.
func (s *Store) Queued() int {
	s.turns.mu.Lock()
	defer s.turns.mu.Unlock()
	return len(s.turns.queue)
}
