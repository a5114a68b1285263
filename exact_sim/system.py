"""Rows of the system endpoints: current/Me and system/Divisions (§2.2, §2.3)."""
from .clock import odata_date
from .model import Division
from .model import Instance
from .model import User

ME_TYPE = "Exact.Web.Api.System.Me"
ME_FIELDS = (
    "UserID", "CurrentDivision", "UserName", "FullName", "FirstName", "LastName", "Email", "LanguageCode", "Language",
    "Legislation", "DivisionCustomer", "DivisionCustomerCode", "DivisionCustomerName", "DivisionCustomerVatNumber",
    "AccountingDivision", "ServerTime", "ServerUtcOffset")
DIVISION_TYPE = "Exact.Web.Api.System.SystemDivision"
DIVISION_FIELDS = (
    "Code", "Description", "Hid", "Customer", "CustomerCode", "CustomerName", "Country", "Currency", "VATNumber", "City",
    "Status", "BlockingStatus", "ArchiveDate", "Current", "IsMainDivision", "Legislation", "StartDate")


def me_row(user: User, instance: Instance, now: float) -> dict:
    """The single current/Me row; the customer fields describe the licence owner of the current division."""
    current = instance.divisions[user.current_division]
    return {
        "UserID": user.user_id, "CurrentDivision": current.code, "UserName": user.username, "FullName": user.full_name,
        "FirstName": user.first_name, "LastName": user.last_name, "Email": user.username,
        "LanguageCode": user.language_code, "Language": user.language_code[:2].upper(), "Legislation": current.legislation,
        "DivisionCustomer": current.customer, "DivisionCustomerCode": current.customer_code,
        "DivisionCustomerName": current.customer_name, "DivisionCustomerVatNumber": current.vat_number,
        "AccountingDivision": current.code, "ServerTime": odata_date(now), "ServerUtcOffset": 0.0,
    }


def division_row(division: Division, user: User) -> dict:
    """A system/Divisions row; Current marks the user's current division."""
    return {
        "Code": division.code, "Description": division.description, "Hid": division.code, "Customer": division.customer,
        "CustomerCode": division.customer_code, "CustomerName": division.customer_name, "Country": division.country,
        "Currency": division.currency, "VATNumber": division.vat_number, "City": division.city, "Status": division.status,
        "BlockingStatus": division.blocking_status,
        "ArchiveDate": odata_date(division.archive_date) if division.archive_date else None,
        "Current": division.code == user.current_division, "IsMainDivision": division.is_main,
        "Legislation": str(division.legislation), "StartDate": odata_date(division.start_date),
    }
