package stripe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// History replays a Stripe account's subscriptions for `cx-exporter
// backfill`: each subscription's own timestamps (created, trial end,
// canceled, ended) give its status over time, and the subscription events
// Stripe keeps (30 days) give every change exactly, data.object at the
// event's time, with data.previous_attributes for the state before the
// oldest kept change. Plan and quantity changes older than the events'
// retention are not seen (docs/vendors.md).
type History struct {
	s        *Syncer
	requests int
	at       int64 // time of the last Advance
}

// NewHistory returns the history reader of an account.
func NewHistory(o Options) (*History, error) {
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	return &History{s: s}, nil
}

// Requests is how many requests the replay made.
func (h *History) Requests() int { return h.requests }

// State is the time of the last Advance: a resumed replay reads the
// account again and goes on from there.
func (h *History) State() ([]byte, error) { return json.Marshal(h.at) }

// version is a subscription's canonical version from a time on.
type version struct {
	at  int64
	sub billing.Subscription
}

// Replay lists every subscription (status=all) and the kept subscription
// events, builds each subscription's versions, and hands r those dated
// before to in time order; the versions before from are folded into one,
// dated from.
func (h *History) Replay(ctx context.Context, from, to time.Time, resume []byte, r source.Replayer) error {
	var resumeAt int64
	if resume != nil {
		if err := json.Unmarshal(resume, &resumeAt); err != nil {
			return fmt.Errorf("stripe: history checkpoint: %w", err)
		}
	}
	subs, err := h.subscriptions(ctx)
	if err != nil {
		return err
	}
	events, err := h.events(ctx, from)
	if err != nil {
		return err
	}
	var all []version
	for _, raw := range subs {
		all = append(all, h.versions(ctx, raw, events[rawID(raw)])...)
	}
	slices.SortStableFunc(all, func(a, b version) int { return int(a.at - b.at) })
	// The state at from: each subscription's latest version before it.
	latest := map[string]int{}
	var start []version
	for i, v := range all {
		if v.at < from.Unix() {
			latest[v.sub.ID] = i
		}
	}
	for i, v := range all {
		if j, ok := latest[v.sub.ID]; ok && i == j {
			start = append(start, v)
		}
	}
	emit := func(at int64, v *version) error {
		if at < resumeAt {
			return nil
		}
		h.at = at
		if err := r.Advance(time.Unix(at, 0)); err != nil {
			return err
		}
		return r.Subscription(&v.sub)
	}
	for i := range start {
		if err := emit(from.Unix(), &start[i]); err != nil {
			return err
		}
	}
	for i := range all {
		v := &all[i]
		if v.at < from.Unix() {
			continue
		}
		if v.at >= to.Unix() {
			break
		}
		if err := emit(v.at, v); err != nil {
			return err
		}
	}
	return nil
}

// subscriptions lists every subscription, canceled ones included.
func (h *History) subscriptions(ctx context.Context) ([]json.RawMessage, error) {
	var out []json.RawMessage
	after := ""
	for {
		q := url.Values{"status": {"all"}, "limit": {strconv.Itoa(h.s.o.PageSize)},
			"expand[]": {"data.discounts", "data.discounts.source.coupon"}}
		if after != "" {
			q.Set("starting_after", after)
		}
		h.requests++
		l, err := h.s.getList(ctx, h.s.o.BaseURL+"/v1/subscriptions?"+q.Encode())
		if err != nil {
			return nil, err
		}
		for _, raw := range l.Data {
			if id := rawID(raw); id != "" {
				after = id
			}
			out = append(out, raw)
		}
		if !*l.HasMore || len(l.Data) == 0 {
			return out, nil
		}
	}
}

// events lists the kept subscription events since from, oldest first, by
// subscription.
func (h *History) events(ctx context.Context, from time.Time) (map[string][]eventJSON, error) {
	out := map[string][]eventJSON{}
	var all []eventJSON
	after := ""
	for {
		q := url.Values{"created[gte]": {strconv.FormatInt(from.Unix(), 10)}}
		if after != "" {
			q.Set("starting_after", after)
		}
		h.requests++
		l, err := h.s.getList(ctx, h.s.eventsURL(q))
		if err != nil {
			return nil, err
		}
		for _, raw := range l.Data {
			var ev eventJSON
			if err := json.Unmarshal(raw, &ev); err != nil || ev.ID == "" {
				h.s.o.Reject(rawID(raw), "malformed_record", fmt.Errorf("undecodable event: %v", err))
				continue
			}
			after = ev.ID
			all = append(all, ev)
		}
		if !*l.HasMore || len(l.Data) == 0 {
			break
		}
	}
	slices.Reverse(all) // newest first → oldest first
	for _, ev := range all {
		if id := rawID(ev.Data.Object); id != "" && slices.Contains(EventTypes, ev.Type) {
			out[id] = append(out[id], ev)
		}
	}
	return out, nil
}

// canonical maps a subscription object.
func (h *History) canonical(ctx context.Context, raw json.RawMessage, at int64) (billing.Subscription, bool) {
	p, rj := decodeSubscription(raw)
	if rj == nil && p.itemsHasMore {
		if err := h.s.pageItems(ctx, p); err != nil {
			h.s.o.Reject(p.raw.ID, "malformed_record", err)
			return billing.Subscription{}, false
		}
	}
	if rj != nil {
		h.s.o.Reject(rj.ID, rj.Reason, rj.Err)
		return billing.Subscription{}, false
	}
	p.updatedAt = time.Unix(at, 0).UTC()
	look := &lookup{c: h.s, ctx: ctx, sub: p.raw.ID, mem: map[string][]byte{}, put: map[string][]byte{}}
	for id, cj := range discountCoupons(&p.raw) {
		b, _ := json.Marshal(cj)
		look.remember(discountKey+id, b)
		look.remember(couponKey+cj.ID, b)
	}
	s, rj := p.toCanonical(look)
	if rj != nil {
		h.s.o.Reject(rj.ID, rj.Reason, rj.Err)
		return billing.Subscription{}, false
	}
	return s, true
}

// versions are one subscription's versions: from its timestamps up to its
// oldest kept event (with that event's previous attributes for the state
// before it), then one per event.
func (h *History) versions(ctx context.Context, raw json.RawMessage, evs []eventJSON) []version {
	var out []version
	end := int64(1 << 62)
	pre := raw
	if len(evs) > 0 {
		end = evs[0].Created
		if evs[0].Type == "customer.subscription.created" {
			pre = nil // the whole life is in the events
		} else {
			pre = merge(evs[0].Data.Object, evs[0].Data.PreviousAttributes)
		}
	}
	if pre != nil {
		var s subscriptionJSON
		if json.Unmarshal(pre, &s) == nil && s.Created > 0 {
			base, ok := h.canonical(ctx, pre, s.Created)
			if ok {
				out = append(out, timeline(base, s, end)...)
			}
		}
	}
	for _, ev := range evs {
		if s, ok := h.canonical(ctx, ev.Data.Object, ev.Created); ok {
			out = append(out, version{at: ev.Created, sub: s})
		}
	}
	return out
}

// timeline is a subscription's versions from its timestamps alone, before
// end: created (trialing while its trial runs, else live), its trial's
// end, its cancellation. base is its state before end.
func timeline(base billing.Subscription, s subscriptionJSON, end int64) []version {
	at := func(t int64, st billing.Status) version {
		v := base
		v.Status, v.UpdatedAt = st, time.Unix(t, 0).UTC()
		if st.Live() {
			v.CanceledAt, v.EndedAt = time.Time{}, time.Time{}
		}
		return version{at: t, sub: v}
	}
	live := base.Status
	if !live.Live() || live == billing.StatusTrialing {
		live = billing.StatusActive
	}
	var out []version
	trialEnd := int64(0)
	if s.TrialEnd != nil && *s.TrialEnd > s.Created {
		trialEnd = *s.TrialEnd
	}
	ended := int64(0)
	if !base.Status.Live() {
		for _, t := range []*int64{s.EndedAt, s.CanceledAt} {
			if t != nil && *t > 0 && (ended == 0 || *t < ended) {
				ended = *t
			}
		}
	}
	if trialEnd != 0 && (ended == 0 || trialEnd < ended) {
		out = append(out, at(s.Created, billing.StatusTrialing))
		if trialEnd < end {
			out = append(out, at(trialEnd, live))
		}
	} else {
		out = append(out, at(s.Created, live))
	}
	if ended != 0 && ended < end {
		out = append(out, at(ended, base.Status))
	}
	return out
}

// merge applies an event's previous attributes to its object: the object
// as it was before the change.
func merge(object, previous json.RawMessage) json.RawMessage {
	var o, p map[string]json.RawMessage
	if json.Unmarshal(object, &o) != nil {
		return nil
	}
	if json.Unmarshal(previous, &p) == nil {
		for k, v := range p {
			o[k] = v
		}
	}
	b, _ := json.Marshal(o)
	return b
}
