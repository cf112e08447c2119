"""One way to get a service: adapters are registered under their interface
(the INI names the implementation) and services by their factories, and a
service built outside a request (the worker, a script) comes from the same
factories, with the same settings."""

import ast
from pathlib import Path

import pytest
from pyramid.scripting import prepare

from booking import main
from booking.adapters.mail import Mailer
from booking.adapters.mail.folder import FolderMailer
from booking.adapters.mail.smtp import SmtpMailer
from booking.adapters.maps import BACKGROUND, Geocoder
from booking.adapters.maps.nominatim import NominatimGeocoder
from booking.adapters.maps.offline import OfflineGeocoder
from booking.adapters.payments import PaymentProvider
from booking.adapters.payments.onsite import OnsiteProvider
from booking.adapters.payments.stripe import StripeProvider
from booking.services import Work
from booking.services.notifications import Notifier
from booking.services.password_reset import PasswordResetService
from booking.services.payments import PaymentService

PACKAGE = Path(__file__).resolve().parents[2] / "booking"

REAL = {
    "booking.payments": "stripe", "booking.payments.url": "http://127.0.0.1:9/",
    "booking.payments.api_key": "sk_test_wiring", "booking.payments.webhook_secret": "whsec_x",
    "booking.maps": "nominatim", "booking.maps.url": "http://127.0.0.1:9",
    "booking.maps.user_agent": "booking-tests/1 (tests@example.test)",
    "booking.mail": "smtp", "booking.mail.host": "127.0.0.1",
}


def registry_of(tmp_path, **extra):
    app = main({}, **{"sqlalchemy.url": f"sqlite:///{tmp_path}/app.sqlite",
                      "booking.secret": "s" * 40, **extra})
    return app.app.registry


@pytest.fixture
def request_of():
    closers = []

    def make(registry):
        env = prepare(registry=registry)
        closers.append(env["closer"])
        return env["request"]

    yield make
    for close in closers:
        close()


class TestAdaptersByInterface:
    def test_embedded_defaults(self, tmp_path, request_of):
        request = request_of(registry_of(tmp_path))
        assert isinstance(request.find_service(PaymentProvider), OnsiteProvider)
        assert isinstance(request.find_service(Geocoder), OfflineGeocoder)
        assert isinstance(request.find_service(Mailer), FolderMailer)

    def test_real_implementations_named_by_the_ini(self, tmp_path, request_of):
        request = request_of(registry_of(tmp_path, **REAL))
        assert isinstance(request.find_service(PaymentProvider), StripeProvider)
        assert isinstance(request.find_service(Geocoder), NominatimGeocoder)
        assert isinstance(request.find_service(Mailer), SmtpMailer)

    def test_a_person_waits_on_one_attempt_the_worker_retries(self, tmp_path):
        work = Work(registry_of(tmp_path, **REAL))
        assert work.find_service(Geocoder).retries == 0
        assert work.find_service(Geocoder, name=BACKGROUND).retries == 2

    def test_providers_are_shared_mailers_are_not(self, tmp_path, request_of):
        registry = registry_of(tmp_path, **REAL)
        first, second = request_of(registry), request_of(registry)
        assert first.find_service(PaymentProvider) is Work(registry).find_service(PaymentProvider)
        assert first.find_service(Geocoder) is second.find_service(Geocoder)
        assert first.find_service(Mailer) is not second.find_service(Mailer)

    def test_the_payment_service_uses_the_registered_provider(self, tmp_path, request_of):
        registry = registry_of(tmp_path, **REAL)
        request = request_of(registry)
        request.dbsession = None  # not used to build the service
        provider = request.find_service(PaymentService).provider
        assert provider is request.find_service(PaymentProvider)


class TestOutsideARequest:
    SETTINGS = {"booking.public_url": "https://club.example/", "booking.mail.sender":
                "Club <desk@club.example>"}

    def test_a_notifier_has_the_settings_a_request_s_has(self, tmp_path, request_of):
        registry = registry_of(tmp_path, **self.SETTINGS)
        request = request_of(registry)
        request.dbsession = None
        in_request, outside = request.find_service(Notifier), Work(registry).find_service(Notifier)
        assert outside.public_url == in_request.public_url == "https://club.example"
        assert outside.organizer == in_request.organizer

    def test_password_reset_links_to_the_configured_site(self, tmp_path):
        service = Work(registry_of(tmp_path, **self.SETTINGS)).find_service(PasswordResetService)
        assert service.notifier.public_url == "https://club.example"

    def test_one_service_per_unit_of_work(self, tmp_path):
        registry = registry_of(tmp_path)
        work = Work(registry)
        assert work.find_service(Notifier) is work.find_service(Notifier)
        assert Work(registry).find_service(Notifier) is not work.find_service(Notifier)


def adapter_lookups_outside_services(path):
    """``(line, what)`` of each adapter kept in a registry dict or a request
    attribute: ``registry["payment_provider"]``, ``registry["booking.geocoder"]``,
    ``request.geocoder``, or a request method named ``geocoder``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
                and node.slice.value in ("payment_provider", "booking.geocoder")):
            found.append((node.lineno, f'[{node.slice.value!r}]'))
        elif isinstance(node, ast.Attribute) and node.attr == "geocoder":
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name == "request":
                found.append((node.lineno, "request.geocoder"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "add_request_method"
              and any(isinstance(a, ast.Constant) and a.value == "geocoder"
                      for a in [*node.args, *(k.value for k in node.keywords)])):
            found.append((node.lineno, "add_request_method(..., 'geocoder')"))
    return found


def test_no_adapter_lives_in_a_registry_dict_or_a_request_attribute():
    offenders = {str(path.relative_to(PACKAGE.parent)): found
                 for path in sorted(PACKAGE.rglob("*.py"))
                 if (found := adapter_lookups_outside_services(path))}
    assert offenders == {}


def test_the_lookup_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('a = request.registry["payment_provider"]\n'
                      'b = config.registry["booking.geocoder"]\n'
                      'c = self.request.geocoder.offline\n'
                      'config.add_request_method(f, "geocoder", reify=True)\n')
    assert sorted(line for line, _ in adapter_lookups_outside_services(sample)) == [1, 2, 3, 4]
