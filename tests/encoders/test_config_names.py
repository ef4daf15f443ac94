from coordnet.config_errors import names_in_message


def test_names_in_message_replaces_whole_words_only():
    names = {"num_levels": "levels", "growth": "b"}
    assert (
        names_in_message("num_levels must be >= 1, got 0; growth 2", names)
        == "levels must be >= 1, got 0; b 2"
    )
    assert (
        names_in_message("max_num_levels_x and regrowth stay", names)
        == "max_num_levels_x and regrowth stay"
    )
    assert names_in_message("unchanged", {}) == "unchanged"
