"""The HTML pages: the poll list and a poll, whose script talks to the JSON API; article 003's routes."""

from flask import Blueprint, Response, jsonify, render_template, request, session
from sqlalchemy import select

from .models import Poll, db
from .polls import LIST_LIMIT, MAX_OPTIONS, MIN_OPTIONS, POLL_ID, find_poll, poll_results
from .proxy import client_address

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    return render_template("home.html")


@bp.get("/polls/")
def poll_list():
    polls = db.session.scalars(select(Poll).order_by(Poll.id.desc()).limit(LIST_LIMIT))
    return render_template("poll_list.html", polls=polls, min_options=MIN_OPTIONS, max_options=MAX_OPTIONS)


@bp.get(f"/polls/{POLL_ID}")
def poll_page(poll_id: int):
    # Starts this browser's session: the API then counts one vote per poll from it (polls.py).
    session.setdefault("voted", [])
    return render_template("poll.html", poll=poll_results(find_poll(poll_id)), voted=poll_id in session["voted"])


@bp.route("/other/", methods=["GET", "POST"])
def other():
    return Response(f"Other world ({request.method})\n", mimetype="text/plain")


@bp.get("/get_my_ip/")
def get_my_ip():
    # request.remote_addr alone would be Heroku's router: see proxy.py.
    return jsonify(ip=client_address())


@bp.get("/projects/")
def projects():
    # Every value of every key, not str(request.args), which is a Python repr.
    return jsonify(args=request.args.to_dict(flat=False))
