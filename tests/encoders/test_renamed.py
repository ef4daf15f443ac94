import warnings

import pytest

from coordnet.renamed import rename_kwargs


def test_old_name_maps_to_new_and_warns():
    given = {"n_levels": 8, "seed": 0}
    with pytest.warns(
        DeprecationWarning, match=r"HashGrid: keyword n_levels= is deprecated, use num_levels="
    ):
        out = rename_kwargs("HashGrid", given, {"n_levels": "num_levels"})
    assert out == {"num_levels": 8, "seed": 0}
    assert given == {"n_levels": 8, "seed": 0}


def test_new_name_passes_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rename_kwargs("OneBlob", {"num_bins": 4}, {"n_bins": "num_bins"}) == {"num_bins": 4}


def test_both_spellings_refused():
    with pytest.raises(TypeError, match=r"n_bins=.*num_bins="):
        rename_kwargs("OneBlob", {"n_bins": 4, "num_bins": 5}, {"n_bins": "num_bins"})


def test_renamed_attribute_reads_and_writes_the_new_name_with_a_warning():
    from coordnet.renamed import renamed_attribute

    class Grid:
        n_levels = renamed_attribute("n_levels", "num_levels")

        def __init__(self):
            self.num_levels = 4

    grid = Grid()
    with pytest.warns(DeprecationWarning, match=r"Grid.n_levels is deprecated, use .num_levels"):
        assert grid.n_levels == 4
    with pytest.warns(DeprecationWarning):
        grid.n_levels = 7
    assert grid.num_levels == 7


def test_renamed_kwarg_takes_the_old_keyword_once():
    from coordnet.renamed import renamed_kwarg

    def make(num_bins=16, **deprecated):
        return renamed_kwarg("OneBlob", deprecated, "n_bins", "num_bins", num_bins, 16)

    assert make(8) == 8
    with pytest.warns(DeprecationWarning, match="n_bins= is deprecated, use num_bins="):
        assert make(n_bins=4) == 4
    with pytest.raises(TypeError, match="both n_bins= .* and num_bins="):
        make(8, n_bins=4)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bins'"):
        make(bins=4)


def test_names_in_message_replaces_whole_words_only():
    from coordnet.renamed import names_in_message

    names = {"num_levels": "n_levels", "growth": "per_level_scale"}
    assert (
        names_in_message("num_levels must be >= 1, got 0; growth 2", names)
        == "n_levels must be >= 1, got 0; per_level_scale 2"
    )
    assert (
        names_in_message("max_num_levels_x and regrowth stay", names)
        == "max_num_levels_x and regrowth stay"
    )
    assert names_in_message("unchanged", {}) == "unchanged"
