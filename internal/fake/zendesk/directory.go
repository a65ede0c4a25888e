package zendesk

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// The directory endpoints the fake serves: agents and admins
// (GET /api/v2/users?role[]=agent&role[]=admin) and groups
// (GET /api/v2/groups), with Zendesk's cursor pagination: page[size] up
// to 100 (default 100), page[after] the opaque meta.after_cursor of the
// previous page, meta.has_more, links.next. Deleted agents and groups are
// not listed. The ".json" suffix is optional.
const (
	UsersPath          = "/api/v2/users.json"
	GroupsPath         = "/api/v2/groups.json"
	maxDirectoryPage   = 100
	directoryCreatedAt = "2024-01-08T09:00:00Z"
)

type userJSON struct {
	ID        int64  `json:"id"`
	URL       string `json:"url"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	Active    bool   `json:"active"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	// DefaultGroupID is the agent's default group.
	DefaultGroupID *int64 `json:"default_group_id"`
}

type groupJSON struct {
	ID          int64  `json:"id"`
	URL         string `json:"url"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Default     bool   `json:"default"`
	Deleted     bool   `json:"deleted"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

type directoryMeta struct {
	HasMore      bool    `json:"has_more"`
	AfterCursor  *string `json:"after_cursor"`
	BeforeCursor *string `json:"before_cursor"`
}

type directoryLinks struct {
	Prev *string `json:"prev"`
	Next *string `json:"next"`
}

// isDirectory reports whether path is one of the directory endpoints.
func isDirectory(path string) bool {
	for _, p := range []string{UsersPath, GroupsPath} {
		if path == p || path == strings.TrimSuffix(p, ".json") {
			return true
		}
	}
	return false
}

// directory answers a directory list request.
func (s *Server) directory(r *http.Request, _ time.Time) response {
	q := r.URL.Query()
	size := maxDirectoryPage
	if q.Has("page[size]") {
		n, err := strconv.Atoi(q.Get("page[size]"))
		if err != nil || n < 1 || n > maxDirectoryPage {
			return jsonError(http.StatusBadRequest, "InvalidPaginationParameter", "page[size] must be between 1 and 100")
		}
		size = n
	}
	var after int64
	if c := q.Get("page[after]"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err == nil {
			after, err = strconv.ParseInt(strings.TrimPrefix(string(raw), "id:"), 10, 64)
		}
		if err != nil || !strings.HasPrefix(string(raw), "id:") {
			return jsonError(http.StatusBadRequest, "InvalidPaginationParameter", "page[after] is not a valid cursor")
		}
	}
	users := strings.HasPrefix(r.URL.Path, strings.TrimSuffix(UsersPath, ".json"))
	all := s.People.Groups()
	if users {
		if roles := q["role[]"]; len(roles) > 0 && !contains(roles, "agent") && !contains(roles, "admin") {
			all = nil // end-users only: the fake has none
		} else {
			all = s.People.Agents()
		}
	}
	page, more := fake.PageAfter(all, after, size)
	base := s.URL
	if r.Host != "" {
		base = "http://" + r.Host
	}
	meta := directoryMeta{HasMore: more}
	var links directoryLinks
	if len(page) > 0 {
		a := base64.RawURLEncoding.EncodeToString([]byte("id:" + strconv.FormatInt(page[len(page)-1].ID, 10)))
		b := base64.RawURLEncoding.EncodeToString([]byte("id:" + strconv.FormatInt(page[0].ID-1, 10)))
		meta.AfterCursor, meta.BeforeCursor = &a, &b
		if more {
			v := url.Values{"page[size]": {strconv.Itoa(size)}, "page[after]": {a}}
			if roles := q["role[]"]; len(roles) > 0 {
				v["role[]"] = roles
			}
			next := base + r.URL.Path + "?" + v.Encode()
			links.Next = &next
		}
	}
	var body any
	if users {
		out := make([]userJSON, 0, len(page))
		for _, p := range page {
			u := userJSON{ID: p.ID, URL: base + "/api/v2/users/" + strconv.FormatInt(p.ID, 10) + ".json", Name: p.Name,
				Email: "agent" + strconv.FormatInt(p.ID, 10) + "@example.invalid", Role: "agent", Active: true,
				CreatedAt: directoryCreatedAt, UpdatedAt: directoryCreatedAt}
			if p.Group != 0 {
				g := p.Group
				u.DefaultGroupID = &g
			}
			out = append(out, u)
		}
		body = struct {
			Users []userJSON     `json:"users"`
			Meta  directoryMeta  `json:"meta"`
			Links directoryLinks `json:"links"`
		}{out, meta, links}
	} else {
		out := make([]groupJSON, 0, len(page))
		for _, p := range page {
			out = append(out, groupJSON{ID: p.ID, URL: base + "/api/v2/groups/" + strconv.FormatInt(p.ID, 10) + ".json", Name: p.Name,
				CreatedAt: directoryCreatedAt, UpdatedAt: directoryCreatedAt})
		}
		body = struct {
			Groups []groupJSON    `json:"groups"`
			Meta   directoryMeta  `json:"meta"`
			Links  directoryLinks `json:"links"`
		}{out, meta, links}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return jsonError(http.StatusInternalServerError, "InternalError", err.Error())
	}
	return response{Status: http.StatusOK, Header: jsonHeader(), Body: b}
}

func contains(set []string, v string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}
