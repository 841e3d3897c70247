package session

// Limits returns the limits in force.
func (m *Memory) Limits() Limits {
	m.limitsMu.Lock()
	defer m.limitsMu.Unlock()
	return m.limits
}
