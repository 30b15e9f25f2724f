"""The last view's file: what is saved comes back; a broken file starts fresh."""

from __future__ import annotations

from tasktui.config import SavedView
from tasktui.domain import DateField, OperatorStatus, SortOrder, Zone
from tasktui.ui.last_view import (
    LastView,
    default_path,
    forget_last_view,
    load_last_view,
    save_last_view,
)


def test_saved_view_comes_back(tmp_path):
    path = tmp_path / "data" / "last-view.json"
    view = SavedView(date_field=DateField.COMPLETED, from_text="-7d", to_text="",
                     statuses=frozenset({OperatorStatus.COMPLETED}), projects=("Street Scenes",),
                     search="6b0c", order=SortOrder.OLDEST)
    save_last_view(LastView(view, Zone.PACIFIC, 0.0), path)
    back = load_last_view(path)
    assert back is not None
    assert back.zone is Zone.PACIFIC and back.live_interval == 0.0
    assert back.view.date_field is DateField.COMPLETED and back.view.from_text == "-7d"
    assert back.view.statuses == {OperatorStatus.COMPLETED}
    assert back.view.projects == ("Street Scenes",) and back.view.search == "6b0c"
    assert back.view.order is SortOrder.OLDEST
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    forget_last_view(path)
    assert load_last_view(path) is None
    forget_last_view(path)  # twice is fine


def test_missing_or_broken_files_start_fresh(tmp_path):
    path = tmp_path / "last-view.json"
    assert load_last_view(path) is None
    for text in ("{", "[]", '{"version": 1}', '{"version": 1, "filters": {}, "zone": "mars", '
                 '"live_interval": 0}', '{"version": 9, "filters": {}, "zone": "utc", "live_interval": 0}',
                 '{"version": 1, "filters": {"status": ["flying"]}, "zone": "utc", "live_interval": 0}'):
        path.write_text(text)
        assert load_last_view(path) is None, text


def test_default_path_is_under_the_data_dir(tmp_path):
    assert default_path({"TASKTUI_DATA_DIR": str(tmp_path)}) == tmp_path / "last-view.json"
