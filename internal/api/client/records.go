package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/store"
)

// Inquiry returns one inquiry.
func (c *Client) Inquiry(ctx context.Context, id string) (store.Inquiry, error) {
	var out store.Inquiry
	err := c.do(ctx, http.MethodGet, "/api/v1/inquiries/"+url.PathEscape(id), nil, nil, nil, &out)
	return out, err
}

// KeyQuery selects datastore values for Keys.
type KeyQuery struct {
	Scope  store.Scope // system, or user (the caller's own keys)
	Prefix string      // only names that start with it
	Limit  int         // at most this many per page; 0 for the API's default
	Token  string      // the Next of the previous page
}

// Keys lists one page of datastore values, secrets masked.
func (c *Client) Keys(ctx context.Context, q KeyQuery) (api.KeyList, error) {
	v := url.Values{}
	if q.Prefix != "" {
		v.Set("prefix", q.Prefix)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Token != "" {
		v.Set("token", q.Token)
	}
	var out api.KeyList
	err := c.do(ctx, http.MethodGet, "/api/v1/keys/"+url.PathEscape(string(q.Scope)), v, nil, nil, &out)
	return out, err
}

// DeleteKey deletes a datastore value; an unknown key is an *Error with
// status 404.
func (c *Client) DeleteKey(ctx context.Context, scope store.Scope, name string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/keys/"+url.PathEscape(string(scope))+"/"+url.PathEscape(name), nil, nil, nil, nil)
}

// InquiryPage lists one page of inquiries, newest first: those in
// q.Status ("" for all), at most q.Limit (0 for the API's default), after
// q.Token (the Next of the previous page).
func (c *Client) InquiryPage(ctx context.Context, q store.InquiryQuery) (api.InquiryList, error) {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Token != "" {
		v.Set("token", q.Token)
	}
	var out api.InquiryList
	err := c.do(ctx, http.MethodGet, "/api/v1/inquiries", v, nil, nil, &out)
	return out, err
}
