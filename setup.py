from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent

requires = [
    "alembic>=1.13",
    "argon2-cffi>=23.1",
    "Babel>=2.14",
    "cryptography>=42",  # AEAD (AES-GCM) for secrets and personal data at rest
    "libpass>=1.9",  # maintained fork of passlib, same `passlib` import
    "plaster_pastedeploy",
    "psycopg[binary]>=3.1",
    "pyotp>=2.9",  # TOTP second factor (RFC 6238)
    "pyramid>=2.0",
    "pyramid_jinja2>=2.10",
    "pyramid_retry>=2.1",
    "pyramid_services>=2.2",
    "pyramid_tm>=2.5",
    "requests>=2.31",
    "segno>=1.6",  # QR code of the TOTP provisioning URI, as inline SVG
    "SQLAlchemy>=2.0.30",
    "transaction>=4.0",
    "tzdata",
    "waitress>=3.0",
    "webauthn>=2.0",  # passkeys: registration and authentication ceremonies
    "zxcvbn>=4.4",  # password strength estimate (common and guessable passwords)
    "zope.sqlalchemy>=3.1",
]

tests_require = [
    "aiosmtpd>=1.4",  # the in-process SMTP server of the mail tests and bench
    "axe-playwright-python>=0.1.8",  # ships axe-core, run in the browser tests
    "build>=1.0",
    "icalendar>=5.0",
    "playwright>=1.45",
    "pytest>=8.0",
    "pytest-timeout>=2.3",
    "WebTest>=3.0",
    "wheel",  # bdist_wheel for the wheel test's `python -m build --no-isolation`
]

# The migrations stay in the top-level alembic/ folder of the repository (the
# checkout's INI files point there), and the wheel carries them as the data
# package booking.migrations, where booking-initdb finds them once installed.
packages = find_packages(include=["booking", "booking.*"]) + ["booking.migrations"]

# Only these files besides the modules go into the wheel (not whatever
# MANIFEST.in puts into the sdist): templates, static files, catalogs and
# the migration scripts.
package_data = {
    "booking": [
        "templates/**/*.jinja2",
        "static/**/*.css",
        "static/**/*.js",
        "static/**/*.svg",
        "static/**/*.png",
        "static/**/*.ico",
        "locale/*/LC_MESSAGES/*.po",
    ],
    "booking.migrations": ["script.py.mako", "versions/*.py"],
}

setup(
    name="booking",
    version="0.1.0",
    description="Multi-tenant online booking for venues: rooms, courts, tables, classes.",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Pyramid",
        "Topic :: Internet :: WWW/HTTP :: WSGI :: Application",
    ],
    license="MIT",
    python_requires=">=3.11",
    packages=packages,
    package_dir={"booking.migrations": "alembic"},
    package_data=package_data,
    include_package_data=False,
    zip_safe=False,
    install_requires=requires,
    extras_require={"testing": tests_require},
    entry_points={
        "paste.app_factory": ["main = booking:main"],
        "paste.server_runner": ["main = booking.serve:serve"],
        "console_scripts": [
            "booking-initdb = booking.scripts.initialize_db:main",
            "booking-worker = booking.scripts.worker:main",
            "booking-tenant = booking.scripts.tenant:main",
            "booking-admin = booking.scripts.admin:main",
            "booking-backup = booking.scripts.backup:main",
            "booking-restore = booking.scripts.restore:main",
            "booking-keys = booking.scripts.keys:main",
        ],
    },
)
