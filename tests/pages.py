"""Reading pages the way a browser would: what a form on the page submits."""
from html.parser import HTMLParser


_NOTHING, _SENT = object(), object()  # a select's state: no option seen yet / its value already sent


class _FormReader(HTMLParser):
    def __init__(self, action):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.found = False
        self.fields = []  # (name, value) in document order, as a browser submits them
        self._select = None
        self._select_first = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.found and attrs.get("action") == self.action:
            self.inside = self.found = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
            else:
                self.fields.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_first = name, _NOTHING
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._select_first is _NOTHING:
                self._select_first = value
            if "selected" in attrs and self._select_first is not _SENT:
                self.fields.append((self._select, value))
                self._select_first = _SENT
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "select" and self._select:
            if self._select_first not in (_NOTHING, _SENT):  # nothing selected: the browser sends the first
                self.fields.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append(tuple(self._textarea))
            self._textarea = None
        elif tag == "form":
            self.inside = False


def form_fields(body, action):
    """{name: value} the form posting to `action` submits as the page shows it
    (for repeated names, such as checkboxes, the value is a list)."""
    reader = _FormReader(action)
    reader.feed(body)
    assert reader.found, f"no form posts to {action}"
    data = {}
    for name, value in reader.fields:
        if name in data:
            data[name] = (data[name] if isinstance(data[name], list) else [data[name]]) + [value]
        else:
            data[name] = value
    return data
