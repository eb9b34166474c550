"""Masking personal data: the one place it happens, used by replies, logs, tickets and audit records."""

import logging

from hotline.privacy import MaskingFilter, mask_id_number, mask_name, mask_phone, mask_text

ID_NUMBER = "36010219900101123X"


def test_id_number_keeps_region_prefix_and_last_four() -> None:
    assert mask_id_number(ID_NUMBER) == "3601**********123X"


def test_phone_keeps_carrier_prefix_and_last_four() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("5678") == "5678"


def test_name_keeps_family_name_only() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"


def test_free_text_masks_every_id_and_mobile_but_not_other_numbers() -> None:
    text = f"我的身份证{ID_NUMBER}，手机13812345678，2025年缴费380元，工单12393-20261123-0007"
    masked = mask_text(text)
    assert ID_NUMBER not in masked and "13812345678" not in masked
    assert "3601**********123X" in masked and "138****5678" in masked
    assert "2025年缴费380元" in masked and "12393-20261123-0007" in masked


def test_log_records_are_masked_before_any_handler_writes_them() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "verify %s %s", (ID_NUMBER, "13812345678"), None)
    MaskingFilter().filter(record)
    assert record.getMessage() == "verify 3601**********123X 138****5678"


def test_masked_records_keep_their_arguments_for_formatters_that_read_them() -> None:
    # uvicorn's access log formats (client, method, path, version, status) from record.args itself.
    args = ("127.0.0.1:5000", "GET", f"/api/x?id={ID_NUMBER}", "1.1", 200)
    record = logging.LogRecord("access", logging.INFO, __file__, 1, '%s "%s %s HTTP/%s" %d', args, None)
    MaskingFilter().filter(record)
    assert record.args == ("127.0.0.1:5000", "GET", "/api/x?id=3601**********123X", "1.1", 200)
    assert record.getMessage() == '127.0.0.1:5000 "GET /api/x?id=3601**********123X HTTP/1.1" 200'


def test_a_phone_or_id_logged_as_a_number_is_masked_and_the_record_still_formats() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "phone %d amount %.1f", (13812345678, 380.0), None)
    MaskingFilter().filter(record)
    assert record.getMessage() == "phone 138****5678 amount 380.0"
    logging.Formatter().format(record)  # no TypeError from %d meeting a masked string


def test_numbers_typed_with_spaces_dashes_or_full_width_are_masked_too() -> None:
    masked = mask_text("身份证 3601 0219 9001 0112 3X，电话 138-1234-5678，备用１３９１２３４５６７８。")
    assert masked == "身份证 3601**********123X，电话 138****5678，备用139****5678。"


def test_a_short_digit_run_with_separators_is_left_alone() -> None:
    assert mask_text("2025 03 01 的单据，共 3 张") == "2025 03 01 的单据，共 3 张"


def test_given_names_are_masked_wherever_they_occur() -> None:
    assert mask_text("张演示说：张演示的报销进度？", names=["张演示"]) == "张**说：张**的报销进度？"
